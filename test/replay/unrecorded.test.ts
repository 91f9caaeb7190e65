// A request the cassette never saw, such as GET …/session/getsessionid (some Direct Line connectors send it at
// start and ignore its error): a 404 ReplayMismatch that says the request was not recorded and names it, not
// a complaint about the bearer. The cassette is recorded through the recorder from the emulator.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { startReplayer } from '../../src/replay/index.js';
import type { Cassette } from '../../src/cassette/schema.js';
import { recordRawConversation } from '../support/recording.js';
import { call } from '../support/http.js';

describe('a request the cassette never recorded', () => {
  let cassette: Cassette;
  before(async () => {
    cassette = await recordRawConversation([]);
    assert.ok(!cassette.events.some((e) => e.type === 'http' && e.route === 'session.getsessionid'), 'the recording has no getsessionid');
  });

  it('GET …/session/getsessionid: 404 ReplayMismatch "this request was not recorded", naming the route and path', async () => {
    const r = await startReplayer({ cassette, speed: 0 });
    try {
      const res = await call(r.domain, 'GET', '/session/getsessionid', { bearer: 'app-secret', headers: { origin: 'http://app.test' } });
      assert.equal(res.status, 404);
      assert.equal(res.body.error.code, 'ReplayMismatch');
      const message: string = res.body.error.message;
      assert.match(message, /this request was not recorded/);
      assert.match(message, /session\.getsessionid/, 'names the route');
      assert.ok(message.includes(`GET ${new URL(r.domain).pathname}/session/getsessionid`), `names the path: ${message}`);
      assert.doesNotMatch(message, /bearer token was not issued/);
      const s = r.summary();
      assert.equal(s.unmatched, 1);
      assert.equal(s.unmatchedRequests[0]?.route, 'session.getsessionid');
      // The connector ignores the error and goes on: the recorded conversation is still there to start.
      const gen = await call(r.domain, 'POST', '/tokens/generate', { bearer: 'app-secret', body: {} });
      assert.equal(gen.status, 200);
      const start = await call(r.domain, 'POST', '/conversations', { bearer: gen.body.token, body: {} });
      assert.equal(start.status, 201);
    } finally {
      await r.close();
    }
  });
});
