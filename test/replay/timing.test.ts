// Causal timing: a reply recorded N ms after its POST arrives N/speed ms after the live POST, whenever the
// client sends it; nothing overtakes its cause; instant keeps the order without waits.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { startReplayer, type Replayer } from '../../src/replay/index.js';
import { GAPS, WS_TEXTS, wsCassette } from './fixtures.js';
import { StreamClient, startConversation, userMessage } from './helpers.js';
import { sleep } from '../support/async.js';
import { call } from '../support/http.js';

const open: Replayer[] = [];
after(async () => {
  await Promise.all(open.map((r) => r.close()));
});

interface Measured {
  helloGap: number;
  helloResponse: number;
  slowGap: number;
  slowResponse: number;
  texts: string[];
  echoBeforeReply: boolean;
}

/** Runs the cassette's conversation, pausing between steps (so live times differ from recorded ones). */
async function measure(speed: number, pauseMs: number): Promise<Measured> {
  const r = await startReplayer({ cassette: wsCassette(), speed });
  open.push(r);
  const conv = await startConversation(r.domain);
  const stream = new StreamClient(conv.streamUrl);
  await stream.opened;
  await stream.arrivalOf('Welcome to the emulator bot!');
  await sleep(pauseMs); // the live client is slower than the recorded one: timing must follow the live POST
  const path = `/conversations/${conv.conversationId}/activities`;
  const hello = await call(r.domain, 'POST', path, { bearer: conv.token, body: userMessage('hello', conv.userId, 'a') });
  const helloReply = await stream.arrivalOf('You said: hello');
  await call(r.domain, 'POST', path, { bearer: conv.token, body: userMessage('burst 3', conv.userId, 'b') });
  await stream.arrivalOf('burst 3/3');
  await sleep(pauseMs);
  const slowPost = call(r.domain, 'POST', path, { bearer: conv.token, body: userMessage('slow', conv.userId, 'c') });
  const slowReply = await stream.arrivalOf('slow reply');
  const slow = await slowPost;
  const texts = stream.texts();
  const order = stream.texts();
  stream.close();
  return {
    helloGap: helloReply - hello.sentAt,
    helloResponse: hello.at - hello.sentAt,
    slowGap: slowReply - slow.sentAt,
    slowResponse: slow.at - slow.sentAt,
    texts,
    echoBeforeReply: order.indexOf('hello') < order.indexOf('You said: hello'),
  };
}

describe('causal timing', () => {
  it('speed 1: replies follow the live POST by the recorded gap (within 20 ms + 10 %)', async () => {
    const m = await measure(1, 150);
    const tolerance = (gap: number) => 20 + 0.1 * gap;
    const err1 = m.helloGap - GAPS.helloReply;
    const err2 = m.slowGap - GAPS.slowReply;
    console.log(
      `# speed 1: hello reply gap ${m.helloGap.toFixed(1)} ms (recorded ${GAPS.helloReply}, error ${err1.toFixed(1)}), ` +
        `slow reply gap ${m.slowGap.toFixed(1)} ms (recorded ${GAPS.slowReply}, error ${err2.toFixed(1)}), ` +
        `POST responses ${m.helloResponse.toFixed(1)} ms (recorded 300) and ${m.slowResponse.toFixed(1)} ms (recorded 700)`,
    );
    assert.ok(Math.abs(err1) <= tolerance(GAPS.helloReply), `hello reply gap ${m.helloGap}`);
    assert.ok(Math.abs(err2) <= tolerance(GAPS.slowReply), `slow reply gap ${m.slowGap}`);
    assert.ok(Math.abs(m.helloResponse - 300) <= tolerance(300), `POST response after ${m.helloResponse}`);
    assert.ok(Math.abs(m.slowResponse - 700) <= tolerance(700), `POST response after ${m.slowResponse}`);
    assert.ok(m.slowGap < m.slowResponse, 'the reply recorded before the POST response still comes first');
    assert.deepEqual(m.texts, WS_TEXTS);
    assert.ok(m.echoBeforeReply);
  });

  it('speed 4 divides the gaps; instant removes them; both keep the order', async () => {
    const fast = await measure(4, 50);
    const instant = await measure(0, 50);
    console.log(
      `# speed 4: hello reply gap ${fast.helloGap.toFixed(1)} ms (expected ${GAPS.helloReply / 4}), slow ` +
        `${fast.slowGap.toFixed(1)} ms (expected ${GAPS.slowReply / 4}); ` +
        `instant: ${instant.helloGap.toFixed(1)} ms and ${instant.slowGap.toFixed(1)} ms`,
    );
    assert.ok(Math.abs(fast.helloGap - GAPS.helloReply / 4) <= 20 + (0.1 * GAPS.helloReply) / 4, `speed 4 hello gap ${fast.helloGap}`);
    assert.ok(Math.abs(fast.slowGap - GAPS.slowReply / 4) <= 20 + (0.1 * GAPS.slowReply) / 4, `speed 4 slow gap ${fast.slowGap}`);
    assert.ok(instant.helloGap < 30 && instant.slowGap < 30, 'instant: no waits');
    assert.ok(instant.helloResponse < 30, 'instant: POST answered at once');
    assert.deepEqual(fast.texts, WS_TEXTS);
    assert.deepEqual(instant.texts, WS_TEXTS);
  });

  it('a reply never arrives before the POST that caused it, however late the client posts', async () => {
    const r = await startReplayer({ cassette: wsCassette(), speed: 0 });
    open.push(r);
    const conv = await startConversation(r.domain);
    const stream = new StreamClient(conv.streamUrl);
    await stream.opened;
    await stream.arrivalOf('Welcome to the emulator bot!');
    await sleep(150);
    assert.deepEqual(stream.texts(), ['Welcome to the emulator bot!'], 'nothing after the welcome is released before the POST');
    const before = performance.now();
    await call(r.domain, 'POST', `/conversations/${conv.conversationId}/activities`, {
      bearer: conv.token,
      body: userMessage('hello', conv.userId, 'x'),
    });
    const reply = await stream.arrivalOf('You said: hello');
    assert.ok(reply >= before);
    await sleep(50);
    assert.deepEqual(stream.texts(), ['Welcome to the emulator bot!', 'hello', 'You said: hello'], 'the burst waits for its own POST');
    stream.close();
  });
});
