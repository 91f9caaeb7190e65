// Idle sessions are let go (ReplayOptions.sessionIdleMs): a session with a stream open is kept however long it
// is quiet; once its stream is closed and nothing uses it for the idle time, its state is freed, and the client
// coming back with its conversation id and token resumes (a new session over the same recorded conversation,
// from the watermark it brings). With sessionIdleMs 0 nothing is let go.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startReplayer, type Replayer } from '../../src/replay/index.js';
import { sleep } from '../support/async.js';
import { call } from '../support/http.js';
import { StreamClient, startConversation } from './helpers.js';

const DEMO = 'recordings/demo.json';
const WELCOME = 'Welcome to the directline-vcr demo bot!';
const open: Replayer[] = [];
after(async () => {
  await Promise.all(open.map((r) => r.close()));
});

async function replayer(sessionIdleMs: number): Promise<Replayer> {
  const r = await startReplayer({ cassette: DEMO, speed: 0, sessionIdleMs });
  open.push(r);
  return r;
}

/** A conversation whose stream is open and has had the welcome. */
async function started(r: Replayer) {
  const c = await startConversation(r.domain);
  const stream = new StreamClient(c.streamUrl);
  await stream.opened;
  await stream.arrivalOf(WELCOME);
  return { ...c, stream };
}

describe('replay: idle sessions', () => {
  it('keeps a quiet session whose stream is open, lets go of it once closed and idle; the client resumes', async () => {
    const r = await replayer(200);
    const c = await started(r);
    await sleep(700); // several sweeps, the stream open all along
    const polled = await call(r.domain, 'GET', `/conversations/${encodeURIComponent(c.conversationId)}/activities`, { bearer: c.token });
    assert.equal(polled.status, 200);
    assert.equal(r.summary().conversations, 1, 'the same session answered');

    c.stream.ws.close(1000);
    await c.stream.closed;
    await sleep(700);
    // Let go: the same request now resumes the conversation as a new session (its number counts on).
    const watermark = polled.body.watermark as string;
    const resumed = await call(
      r.domain,
      'GET',
      `/conversations/${encodeURIComponent(c.conversationId)}/activities?watermark=${watermark}`,
      {
        bearer: c.token,
      },
    );
    assert.equal(resumed.status, 200, JSON.stringify(resumed.body));
    assert.equal(r.summary().conversations, 2, 'a new session resumed the conversation');
    assert.ok(!resumed.body.activities.some((a: { text?: string }) => a.text === WELCOME), 'nothing the watermark covers comes again');
    assert.equal(r.summary().unmatched, 0);
  });

  it('lets nothing go with sessionIdleMs 0', async () => {
    const r = await replayer(0);
    const c = await started(r);
    c.stream.ws.close(1000);
    await c.stream.closed;
    await sleep(400);
    const polled = await call(r.domain, 'GET', `/conversations/${encodeURIComponent(c.conversationId)}/activities`, { bearer: c.token });
    assert.equal(polled.status, 200);
    assert.equal(r.summary().conversations, 1);
  });
});
