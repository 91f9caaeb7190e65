// The official client (botframework-directlinejs 0.15.8 in Node) against the replayer: WebSocket and
// polling mode, a cassette of the other mode, and the reconnect after a recorded server close.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { startReplayer, type Replayer } from '../../src/replay/index.js';
import {
  ConnectionStatus,
  activitiesOf,
  createDirectLine,
  endDirectLine,
  postAndWait,
  statusLog,
  waitForActivities,
} from '../support/directline-client.js';
import { POLL_TEXTS, WS_TEXTS, pollingCassette, wsCassette } from './fixtures.js';
import { call } from '../support/http.js';

const open: Replayer[] = [];
after(async () => {
  await Promise.all(open.map((r) => r.close()));
});

const textsOf = (activities: any[]) => activities.filter((a) => a.type !== 'typing').map((a) => a.text);
const has = (text: string) => (activities: any[]) => activities.some((a) => a.text === text);

function message(text: string, cid: string) {
  return { type: 'message', text, from: { id: 'dl_live-user', name: 'Live' }, channelData: { clientActivityID: cid } };
}

/** Runs the WS cassette's conversation through a DirectLine client. */
async function converse(dl: ReturnType<typeof createDirectLine>, timeoutMs = 5000): Promise<void> {
  await waitForActivities(dl, has('Welcome to the emulator bot!'), timeoutMs);
  for (const [text, until] of [
    ['hello', 'You said: hello'],
    ['burst 3', 'burst 3/3'],
    ['slow', 'slow reply'],
  ] as const) {
    const id = await postAndWait(dl, message(text, `cid-${text}`));
    assert.match(id, /\|\d{7}$/, `postActivity emitted the id (${id})`);
    await waitForActivities(dl, has(until), timeoutMs);
  }
}

describe('botframework-directlinejs against the replayer', () => {
  it('WebSocket mode: the whole conversation, echo with the clientActivityID', async () => {
    const r = await startReplayer({ cassette: wsCassette(), speed: 4 });
    open.push(r);
    const gen = await call(r.domain, 'POST', '/tokens/generate', { bearer: 'app-secret', body: { user: { id: 'dl_live-user' } } });
    const dl = createDirectLine({ domain: r.domain, token: gen.body.token, webSocket: true });
    try {
      await converse(dl);
      assert.deepEqual(textsOf(activitiesOf(dl)), WS_TEXTS);
      const echo = activitiesOf(dl).find((a) => a.text === 'hello');
      assert.equal(echo.channelData.clientActivityID, 'cid-hello');
      assert.equal(echo.from.id, 'dl_live-user');
      assert.ok(statusLog(dl).includes(ConnectionStatus.Online));
      assert.ok(
        activitiesOf(dl).some((a) => a.type === 'typing'),
        'typing reaches a stream client',
      );
    } finally {
      endDirectLine(dl);
    }
    assert.equal(r.summary().unmatched, 0);
  });

  it("token 'any' (no tokens/generate) against a cassette recorded with tokens/generate first", async () => {
    const r = await startReplayer({ cassette: wsCassette(), speed: 0 });
    open.push(r);
    const dl = createDirectLine({ domain: r.domain, token: 'any', webSocket: true });
    try {
      await converse(dl);
      assert.deepEqual(textsOf(activitiesOf(dl)), WS_TEXTS);
    } finally {
      endDirectLine(dl);
    }
    assert.equal(r.summary().unmatched, 0);
  });

  it('polling mode with a stream cassette', async () => {
    const r = await startReplayer({ cassette: wsCassette(), speed: 4 });
    open.push(r);
    const gen = await call(r.domain, 'POST', '/tokens/generate', { bearer: 'app-secret', body: { user: { id: 'dl_live-user' } } });
    const dl = createDirectLine({ domain: r.domain, token: gen.body.token, webSocket: false, pollingInterval: 200 });
    try {
      await converse(dl);
      assert.deepEqual(textsOf(activitiesOf(dl)), WS_TEXTS);
      assert.ok(!activitiesOf(dl).some((a) => a.type === 'typing'), 'polls never carry typing');
      assert.equal(activitiesOf(dl).find((a) => a.text === 'slow').channelData.clientActivityID, 'cid-slow');
    } finally {
      endDirectLine(dl);
    }
    assert.equal(r.summary().unmatched, 0);
  });

  it('WebSocket mode with a polling cassette, started with a secret', async () => {
    const r = await startReplayer({ cassette: pollingCassette(), speed: 0 });
    open.push(r);
    const dl = createDirectLine({ domain: r.domain, secret: 'app-secret', webSocket: true });
    try {
      await waitForActivities(dl, has('Welcome to the emulator bot!'));
      await postAndWait(dl, message('hello', 'p1'));
      await waitForActivities(dl, has('You said: hello'));
      await postAndWait(dl, message('second', 'p2'));
      await waitForActivities(dl, has('You said: second'));
      assert.deepEqual(textsOf(activitiesOf(dl)), POLL_TEXTS);
    } finally {
      endDirectLine(dl);
    }
  });

  it('reconnects after a recorded server close and resumes after its watermark', async () => {
    const r = await startReplayer({ cassette: wsCassette({ serverClose: true }), speed: 0 });
    open.push(r);
    const gen = await call(r.domain, 'POST', '/tokens/generate', { bearer: 'app-secret', body: { user: { id: 'dl_live-user' } } });
    // random() = 0 makes the client's reconnect delay its minimum (3 s)
    const dl = createDirectLine({ domain: r.domain, token: gen.body.token, webSocket: true, random: () => 0 });
    try {
      await converse(dl);
      await new Promise((res) => setTimeout(res, 3400)); // the server close, then the client's reconnect
      await postAndWait(dl, message('after', 'cid-after'));
      await waitForActivities(dl, has('You said: after'), 5000);
      assert.deepEqual(textsOf(activitiesOf(dl)), [...WS_TEXTS, 'after', 'You said: after'], 'no loss, no duplicates');
      assert.equal(activitiesOf(dl).find((a) => a.text === 'after').channelData.clientActivityID, 'cid-after');
    } finally {
      endDirectLine(dl);
    }
    const s = r.summary();
    assert.equal(s.unmatched, 0, JSON.stringify(s.unmatchedRequests));
  });
});
