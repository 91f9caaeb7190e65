// A start repeated with the token that started a conversation (a Web Chat page reloaded with its token kept in
// sessionStorage): the service answers 200 with the existing conversation, not a new one, and so must replay —
// with a fresh streamUrl, without using up anything recorded, and the client continues in the same session.
// The cassettes are recorded through the recorder from the emulator, with one start each.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { startReplayer } from '../../src/replay/index.js';
import type { Cassette } from '../../src/cassette/schema.js';
import { activitiesOf, createDirectLine, endDirectLine, postAndWait, waitForActivities } from '../support/directline-client.js';
import { generateToken, recordCassette, recordRawConversation } from '../support/recording.js';
import { sleep } from '../support/async.js';
import { call } from '../support/http.js';
import { StreamClient } from './helpers.js';

const WELCOME = 'Welcome to the emulator bot!';
const USER = 'dl_reload-user';
const has = (text: string) => (activities: any[]) => activities.some((a) => a.text === text);
const textsOf = (activities: any[]) => activities.filter((a) => a.type !== 'typing').map((a) => a.text);

describe('a start repeated with the same token', { timeout: 120_000 }, () => {
  let raw: Cassette;
  before(async () => {
    raw = await recordRawConversation(['hello'], USER);
    const routes = raw.events.flatMap((e) => (e.type === 'http' ? [e.route] : []));
    assert.deepEqual(routes, ['tokens.generate', 'conversations.start', 'activities.post'], 'one generate, one start, one post');
  });

  it('raw HTTP: generate → start 201 → the same start 200, same conversation, fresh streamUrl; the client goes on', async () => {
    const r = await startReplayer({ cassette: raw, speed: 4 });
    try {
      const gen = await call(r.domain, 'POST', '/tokens/generate', { bearer: 'app-secret', body: { user: { id: USER } } });
      assert.equal(gen.status, 200);
      const token = gen.body.token as string;
      const startBody = { user: { id: USER } };
      const first = await call(r.domain, 'POST', '/conversations', { bearer: token, body: startBody });
      assert.equal(first.status, 201, JSON.stringify(first.body));
      const again = await call(r.domain, 'POST', '/conversations', { bearer: token, body: startBody });
      assert.equal(again.status, 200, `a repeated start answers 200: ${JSON.stringify(again.body)}`);
      assert.equal(again.body.conversationId, first.body.conversationId, 'the same conversation');
      assert.equal(typeof again.body.token, 'string');
      assert.ok(again.body.token.length > 0, 'the answer carries the token');
      assert.deepEqual(Object.keys(again.body).sort(), Object.keys(first.body).sort(), 'the body of a start');
      const u1 = new URL(first.body.streamUrl);
      const u2 = new URL(again.body.streamUrl);
      assert.equal(u2.pathname, u1.pathname, 'the stream of the same conversation');
      assert.ok(u2.searchParams.get('t'), 'a stream token');
      assert.notEqual(u2.searchParams.get('t'), u1.searchParams.get('t'), 'a fresh t=');
      // And once more: still 200, still nothing recorded used up.
      const third = await call(r.domain, 'POST', '/conversations', { bearer: token, body: startBody });
      assert.equal(third.status, 200);
      assert.equal(third.body.conversationId, first.body.conversationId);

      // The reloaded page goes on with the fresh streamUrl and the answer's token: history, then the recorded turn.
      const stream = new StreamClient(again.body.streamUrl);
      await stream.opened;
      await stream.arrivalOf(WELCOME);
      const posted = await call(r.domain, 'POST', `/conversations/${again.body.conversationId}/activities`, {
        bearer: again.body.token,
        body: { type: 'message', text: 'hello', from: { id: USER } },
      });
      assert.equal(posted.status, 200, JSON.stringify(posted.body));
      await stream.arrivalOf('You said: hello');
      assert.deepEqual(stream.texts(), [WELCOME, 'hello', 'You said: hello']);
      stream.close();
      const s = r.summary();
      assert.equal(s.unmatched, 0, JSON.stringify(s.unmatchedRequests));
      assert.equal(s.conversations, 1, 'one session: the repeat did not start another');
    } finally {
      await r.close();
    }
  });

  it('botframework-directlinejs: two clients in turn on one token; the second gets the same conversation and its history', async () => {
    const { cassette } = await recordCassette({}, async ({ domain, emu }) => {
      const dl = createDirectLine({ domain, token: await generateToken(domain, emu.secret, USER), webSocket: true });
      try {
        await waitForActivities(dl, has(WELCOME), 10_000);
        await postAndWait(dl, { type: 'message', text: 'hello', from: { id: USER } });
        await waitForActivities(dl, has('You said: hello'), 10_000);
      } finally {
        endDirectLine(dl);
      }
    });
    const r = await startReplayer({ cassette, speed: 4 });
    try {
      const token = await generateToken(r.domain, 'app-secret', USER);
      const first = createDirectLine({ domain: r.domain, token, webSocket: true });
      let conversationId: string;
      try {
        await waitForActivities(first, has(WELCOME), 10_000);
        await postAndWait(first, { type: 'message', text: 'hello', from: { id: USER } });
        await waitForActivities(first, has('You said: hello'), 10_000);
        conversationId = (first as unknown as { conversationId: string }).conversationId;
      } finally {
        endDirectLine(first);
      }
      const history = [WELCOME, 'hello', 'You said: hello'];
      // The page reloads: a new client, the same token; over the stream, then by polling (watermark from the start).
      for (const webSocket of [true, false]) {
        const second = createDirectLine({ domain: r.domain, token, webSocket, pollingInterval: 200 });
        try {
          await waitForActivities(second, has('You said: hello'), 10_000);
          await sleep(300); // no duplicates trailing behind
          assert.equal((second as unknown as { conversationId: string }).conversationId, conversationId, 'the same conversation');
          assert.deepEqual(textsOf(activitiesOf(second)), history, `the history, once (${webSocket ? 'WebSocket' : 'polling'})`);
          assert.ok(activitiesOf(second).every((a) => a.conversation.id === conversationId));
        } finally {
          endDirectLine(second);
        }
      }
      await sleep(300);
      const s = r.summary();
      assert.equal(s.unmatched, 0, JSON.stringify(s.unmatchedRequests));
      assert.equal(s.conversations, 1);
    } finally {
      await r.close();
    }
  });
});
