// A replayed activity carries the time it was delivered, as the service stamps it, not the recording's date.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startReplayer } from '../../src/replay/index.js';
import { pollingCassette } from './fixtures.js';
import { startConversation } from './helpers.js';
import { call } from '../support/http.js';
import { sleep } from '../support/async.js';

test('replayed activities are stamped with their live delivery time, in the service format', async () => {
  const replayer = await startReplayer({ cassette: pollingCassette(), speed: 0 });
  try {
    const before = Date.now();
    const { conversationId, token } = await startConversation(replayer.domain);
    await sleep(50);
    const res = await call(replayer.domain, 'GET', `/conversations/${conversationId}/activities`, { bearer: token });
    const stamps: string[] = res.body.activities.map((a: { timestamp: string }) => a.timestamp);
    assert.ok(stamps.length > 0, 'the welcome was released');
    for (const s of stamps) {
      assert.match(s, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);
      const t = Date.parse(s);
      assert.ok(t >= before - 5 && t <= Date.now() + 5, `${s} is the live delivery time, not 2026-06-12`);
    }
    // The same activity keeps its stamp when it is served again.
    const again = await call(replayer.domain, 'GET', `/conversations/${conversationId}/activities`, { bearer: token });
    assert.deepEqual(
      again.body.activities.map((a: { timestamp: string }) => a.timestamp),
      stamps,
    );
  } finally {
    await replayer.close();
  }
});
