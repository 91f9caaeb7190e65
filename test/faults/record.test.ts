// Faults while recording: botframework-directlinejs talks to the test emulator through the recorder, which
// injects a 429 on the first post and drops the first stream after its 2nd frame. The client recovers against
// the real upstream (retry, reconnect with its watermark), the upstream never sees the faulted post, and the
// cassette notes each injected fault, which `inspect` shows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator } from '../emulator/index.js';
import { startRecorder } from '../../src/record/recorder.js';
import { loadCassette } from '../../src/cassette/load.js';
import { renderTimeline } from '../../src/inspect/index.js';
import type { HttpEvent, WsCloseEvent } from '../../src/cassette/schema.js';
import { tempDir } from '../support/fs.js';
import { activitiesOf, createDirectLine, endDirectLine, postAndWait, waitForActivities } from '../support/directline-client.js';

const has = (text: string) => (activities: any[]) => activities.some((a) => a.text === text);
const msg = (text: string) => ({ type: 'message', text, from: { id: 'user-1' } });

test('record with faults: the client sees them, the upstream does not, the cassette and inspect note them', {
  timeout: 60_000,
}, async () => {
  const dir = await tempDir('dlvcr-faults-');
  const emu = await startEmulator({});
  const cassette = dir.file('faulted.json');
  const rec = await startRecorder({
    upstream: emu.domain,
    cassette,
    port: 0,
    faults: ['status=429@route=activities.post,nth=1', 'drop-stream@frame=2'],
  });
  try {
    const dl = createDirectLine({ domain: rec.domain, secret: emu.secret, webSocket: true, random: () => 0 });
    try {
      await waitForActivities(dl, has('Welcome to the emulator bot!'), 5000);
      const first = await postAndWait(dl, msg('hello')).catch((err: { status?: number }) => `error ${err.status}`);
      assert.ok(first === 'retry' || first === 'error 429', `the faulted post failed (${first})`);
      assert.match(await postAndWait(dl, msg('hello')), /\|/, 'the retry reached the upstream');
      // The echo is the 2nd frame: the stream drops after it, the client reconnects (3 s) and gets the reply.
      await waitForActivities(dl, has('You said: hello'), 15_000);
      const texts = activitiesOf(dl)
        .filter((a) => a.type !== 'typing')
        .map((a) => a.text);
      assert.deepEqual(texts, ['Welcome to the emulator bot!', 'hello', 'You said: hello']);
    } finally {
      endDirectLine(dl);
    }
    const posts = emu.requests.filter((r) => r.method === 'POST' && /\/activities$/.test(r.path));
    assert.equal(posts.length, 1, 'the upstream saw only the retried post');
    assert.ok(
      emu.requests.some((r) => r.method === 'GET' && /\/conversations\/[^/]+\?watermark=\d+/.test(r.path)),
      'the reconnect went upstream',
    );
    assert.deepEqual(rec.faultSummary(), {
      injected: 2,
      byRule: { 'status=429@route=activities.post,nth=1': 1, 'drop-stream@frame=2': 1 },
    });
  } finally {
    await rec.close();
    await emu.close();
  }
  const c = await loadCassette(cassette);
  const faulted = c.events.filter((e) => 'fault' in e && e.fault);
  assert.equal(faulted.length, 2);
  const post = faulted.find((e): e is HttpEvent => e.type === 'http')!;
  assert.equal(post.route, 'activities.post');
  assert.equal(post.response?.status, 429);
  assert.equal(post.response?.headers['retry-after'], '1');
  assert.deepEqual(post.fault, { rule: 'status=429@route=activities.post,nth=1' });
  const drop = faulted.find((e): e is WsCloseEvent => e.type === 'ws.close')!;
  assert.deepEqual([drop.by, drop.code, drop.fault?.rule], ['proxy', 1006, 'drop-stream@frame=2']);
  const timeline = renderTimeline(c, { color: false });
  assert.match(timeline, /activities\.post .* 429 .*\[injected fault: status=429@route=activities\.post,nth=1\]/);
  assert.match(timeline, /closed by proxy 1006 +\[injected fault: drop-stream@frame=2\]/);
  const onlyFaults = renderTimeline(c, { color: false, types: ['fault'] });
  assert.equal(onlyFaults.split('\n').filter((l) => l.includes('[injected fault')).length, 2);
  await dir.cleanup();
});
