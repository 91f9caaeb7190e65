// WebSocket delivery: a whole recorded conversation to a stream client, echo with the live
// clientActivityID, keep-alives, a recorded server close and the reconnect after it, a recorded 403
// handshake, and the cross-overs (polling cassette → stream client, stream cassette → polling client).
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { startReplayer, type Replayer } from '../../src/replay/index.js';
import { POLL_TEXTS, REC_USER, WS_CONV, WS_TEXTS, pollingCassette, wsCassette } from './fixtures.js';
import { StreamClient, startConversation, userMessage } from './helpers.js';
import { sleep } from '../support/async.js';
import { call } from '../support/http.js';

const open: Replayer[] = [];
after(async () => {
  await Promise.all(open.map((r) => r.close()));
});

async function replayer(...args: Parameters<typeof startReplayer>): Promise<Replayer> {
  const r = await startReplayer(...args);
  open.push(r);
  return r;
}

/** Posts the cassette's three messages the way a client would, waiting for each reply. */
async function converse(
  domain: string,
  conv: { conversationId: string; token: string; userId: string },
  stream: StreamClient,
): Promise<void> {
  const path = `/conversations/${conv.conversationId}/activities`;
  await stream.arrivalOf('Welcome to the emulator bot!');
  const hello = await call(domain, 'POST', path, { bearer: conv.token, body: userMessage('hello', conv.userId, 'live-cid-1') });
  assert.equal(hello.status, 200);
  await stream.arrivalOf('You said: hello');
  const burst = await call(domain, 'POST', path, { bearer: conv.token, body: userMessage('burst 3', conv.userId, 'live-cid-2') });
  assert.equal(burst.status, 200);
  await stream.arrivalOf('burst 3/3');
  const slow = await call(domain, 'POST', path, { bearer: conv.token, body: userMessage('slow', conv.userId, 'live-cid-3') });
  assert.equal(slow.status, 200);
  await stream.arrivalOf('slow reply');
}

describe('replay over the WebSocket stream', () => {
  it('serves a whole recorded conversation with live ids, tokens, user and echo', async () => {
    const r = await replayer({ cassette: wsCassette(), speed: 4 });
    const conv = await startConversation(r.domain);
    assert.equal(conv.generated!.status, 200);
    assert.equal(conv.started.status, 201, 'the recorded 201 comes back');
    assert.equal(conv.conversationId, `${WS_CONV}_1`);
    assert.ok(!conv.token.includes('DLVCR_'), 'placeholders never reach the client');
    assert.match(conv.token, /^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+$/, 'the token is JWT-shaped');
    assert.notEqual(conv.token, conv.generated!.body.token);
    const url = new URL(conv.streamUrl);
    assert.equal(url.origin.replace('ws:', 'http:'), r.url);
    assert.equal(url.pathname, `/v3/directline/conversations/${conv.conversationId}/stream`);
    assert.equal(url.searchParams.get('watermark'), '-');
    assert.ok(url.searchParams.get('t') && !url.searchParams.get('t')!.includes('DLVCR'));

    const stream = new StreamClient(conv.streamUrl);
    await stream.opened;
    stream.ws.send(''); // a DirectLineJS ping is accepted and ignored
    await converse(r.domain, conv, stream);
    assert.deepEqual(stream.texts(), WS_TEXTS);
    // typing frames are replayed without a watermark
    const typingFrames = stream.frames.filter((f) => f.json?.activities.some((a) => a.type === 'typing'));
    assert.equal(typingFrames.length, 2);
    for (const f of typingFrames) assert.equal(f.json!.watermark, undefined);
    // the recorded frame grouping is kept
    assert.ok(stream.frames.some((f) => f.json?.activities.length === 2 && f.json.watermark === '8'));
    for (const a of stream.activities()) {
      assert.ok(a.id!.startsWith(`${conv.conversationId}|`), `activity id ${a.id} carries the live conversation id`);
      assert.equal((a.conversation as { id: string }).id, conv.conversationId);
      assert.ok(!JSON.stringify(a).includes('DLVCR_'));
      assert.ok(!JSON.stringify(a).includes(REC_USER), 'the recorded user id is replaced by the live one');
    }
    const echo = stream.activities().find((a) => a.text === 'hello')!;
    assert.equal(echo.channelData?.clientActivityID, 'live-cid-1', 'the echo carries the live clientActivityID');
    assert.equal(echo.from?.id, conv.userId);
    assert.equal(echo.from?.name, 'Live User');
    const reply = stream.activities().find((a) => a.text === 'You said: hello')!;
    assert.equal(reply.recipient?.id, conv.userId);
    assert.equal(reply.replyToId, echo.id);
    stream.close();
    const s = await (async () => r.summary())();
    assert.equal(s.conversations, 1);
    assert.equal(s.unmatched, 0);
  });

  it('replays keep-alives on the matching socket', async () => {
    const r = await replayer({ cassette: wsCassette(), speed: 2 });
    const conv = await startConversation(r.domain);
    const stream = new StreamClient(conv.streamUrl);
    await stream.opened;
    // The first keep-alive was recorded 280 ms after the stream attached: 140 ms at speed 2.
    await stream.waitFor(() => stream.frames.some((f) => f.text === ''), 2000, 'a keep-alive');
    const keepAlive = stream.frames.find((f) => f.text === '')!;
    const welcome = stream.frames.find((f) => f.json)!;
    assert.ok(keepAlive.at > welcome.at, 'the keep-alive comes after the welcome, as recorded');
    stream.close();
  });

  it('replays a recorded server close; the reconnect with a watermark resumes without loss or duplicates', async () => {
    const r = await replayer({ cassette: wsCassette({ serverClose: true }), speed: 4 });
    const conv = await startConversation(r.domain);
    const first = new StreamClient(conv.streamUrl);
    await first.opened;
    await converse(r.domain, conv, first);
    const closed = await first.closed;
    assert.deepEqual(closed, { code: 4001, reason: 'collision' });
    const wm = first.lastWatermark();
    assert.equal(wm, '10');

    // the client reconnects (DirectLineJS: GET /conversations/{id}?watermark=) and posts again
    const re = await call(r.domain, 'GET', `/conversations/${conv.conversationId}?watermark=${wm}`, { bearer: conv.token });
    assert.equal(re.status, 200);
    assert.equal(re.body.conversationId, conv.conversationId);
    assert.notEqual(re.body.token, conv.token);
    const reUrl = new URL(re.body.streamUrl);
    assert.equal(reUrl.searchParams.get('watermark'), wm);
    const second = new StreamClient(re.body.streamUrl);
    await second.opened;
    const post = await call(r.domain, 'POST', `/conversations/${conv.conversationId}/activities`, {
      bearer: re.body.token,
      body: userMessage('after', conv.userId, 'live-cid-4'),
    });
    assert.equal(post.status, 200);
    await second.arrivalOf('You said: after');
    await second.waitFor(() => second.frames.some((f) => f.text === ''), 2000, 'the keep-alive of socket #2');
    assert.deepEqual(second.texts(), ['after', 'You said: after'], 'nothing before the watermark is resent');
    assert.equal(second.activities().find((a) => a.text === 'after')!.channelData?.clientActivityID, 'live-cid-4');
    second.close();

    // a late reconnect without watermark-aware state: a second client reconnecting from an old watermark gets the rest
    const re2 = await call(r.domain, 'GET', `/conversations/${conv.conversationId}?watermark=6`, { bearer: re.body.token });
    assert.equal(re2.status, 200, 'reconnects beyond the recording are synthesized');
    const third = new StreamClient(re2.body.streamUrl);
    await third.opened;
    await third.waitFor(() => third.texts().includes('You said: after'));
    assert.deepEqual(third.texts(), ['burst 2/3', 'burst 3/3', 'slow', 'slow reply', 'after', 'You said: after']);
    third.close();
    assert.equal(r.summary().unmatched, 0);
  });

  it('answers a recorded 403 handshake with the same status and body', async () => {
    const r = await replayer({ cassette: wsCassette({ refusedHandshake: true }), speed: 0 });
    const conv = await startConversation(r.domain);
    const first = new StreamClient(conv.streamUrl);
    await first.opened;
    await converse(r.domain, conv, first);
    await first.closed;
    const re = await call(r.domain, 'GET', `/conversations/${conv.conversationId}?watermark=${first.lastWatermark()}`, {
      bearer: conv.token,
    });
    const refused = new StreamClient(re.body.streamUrl);
    await assert.rejects(refused.opened);
    assert.equal(refused.refused!.status, 403);
    assert.deepEqual(JSON.parse(refused.refused!.body), { error: { code: 'TokenExpired', message: 'Token expired' } });
    const re2 = await call(r.domain, 'GET', `/conversations/${conv.conversationId}?watermark=${first.lastWatermark()}`, {
      bearer: re.body.token,
    });
    const third = new StreamClient(re2.body.streamUrl);
    await third.opened;
    await call(r.domain, 'POST', `/conversations/${conv.conversationId}/activities`, {
      bearer: re2.body.token,
      body: userMessage('after', conv.userId, 'c'),
    });
    await third.arrivalOf('You said: after');
    assert.deepEqual(third.texts(), ['after', 'You said: after']);
    third.close();
  });

  it('refuses upgrades for unknown conversations and paths with 404, without crashing', async () => {
    const r = await replayer({ cassette: wsCassette(), speed: 0 });
    const wsBase = r.url.replace('http:', 'ws:');
    // Without a stream token no unknown conversation is resumed.
    for (const path of ['/v3/directline/conversations/nope/stream', '/v3/directline/conversations/nope', '/elsewhere/stream']) {
      const c = new StreamClient(wsBase + path);
      await assert.rejects(c.opened);
      assert.equal(c.refused!.status, 404, path);
      assert.equal(JSON.parse(c.refused!.body).error.code, 'ReplayMismatch');
    }
    // still serving
    const conv = await startConversation(r.domain);
    assert.equal(conv.started.status, 201);
  });

  it('serves a polling cassette to a stream client (one activity per frame, recorded watermarks)', async () => {
    const r = await replayer({ cassette: pollingCassette(), speed: 0 });
    const conv = await startConversation(r.domain, { generate: false });
    assert.equal(conv.started.status, 201);
    const stream = new StreamClient(conv.streamUrl);
    await stream.opened;
    await stream.arrivalOf('Welcome to the emulator bot!');
    const path = `/conversations/${conv.conversationId}/activities`;
    await call(r.domain, 'POST', path, { bearer: conv.token, body: userMessage('hello', conv.userId, 'p1') });
    await stream.arrivalOf('You said: hello');
    await call(r.domain, 'POST', path, { bearer: conv.token, body: userMessage('second', conv.userId, 'p2') });
    await stream.arrivalOf('You said: second');
    assert.deepEqual(stream.texts(), POLL_TEXTS);
    assert.ok(stream.frames.every((f) => f.json!.activities.length === 1));
    assert.deepEqual(
      stream.frames.map((f) => f.json!.watermark),
      ['0', 'vcr-1', '2', 'vcr-3', '4'],
    );
    assert.equal(stream.activities()[1].channelData?.clientActivityID, 'p1');
    stream.close();
  });

  it('serves a stream cassette to a polling client (no typing, watermarks resume)', async () => {
    const r = await replayer({ cassette: wsCassette(), speed: 0 });
    const conv = await startConversation(r.domain);
    const poll = async (wm: string) =>
      call(r.domain, 'GET', `/conversations/${conv.conversationId}/activities?watermark=${wm}`, { bearer: conv.token });
    const first = await poll('');
    assert.equal(first.status, 200);
    assert.deepEqual(
      first.body.activities.map((a: { text: string }) => a.text),
      ['Welcome to the emulator bot!'],
    );
    assert.equal(first.body.watermark, '0');
    const empty = await poll('0');
    assert.deepEqual(empty.body, { activities: [], watermark: '0' });
    const path = `/conversations/${conv.conversationId}/activities`;
    await call(r.domain, 'POST', path, { bearer: conv.token, body: userMessage('hello', conv.userId, 'q1') });
    await sleep(5);
    const second = await poll('0');
    assert.deepEqual(
      second.body.activities.map((a: { text: string }) => a.text),
      ['hello', 'You said: hello'],
    );
    assert.equal(second.body.watermark, '3');
    assert.equal(second.body.activities[0].channelData.clientActivityID, 'q1');
    assert.ok(second.body.activities.every((a: { type: string }) => a.type !== 'typing'));
    const all = await poll('');
    assert.equal(all.body.activities.length, 3, 'an empty watermark is from the start');
    const unknown = await poll('zzz');
    assert.equal(unknown.body.activities.length, 3, 'an unknown watermark is from the start');
  });
});
