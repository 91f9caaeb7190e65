// The recorder's WebSocket relay: keep-alives and pings, close codes both ways, collisions, refused handshakes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startRecorder } from '../../src/record/recorder.js';
import { loadCassette } from '../../src/cassette/load.js';
import type { WsCloseEvent, WsOpenEvent } from '../../src/cassette/schema.js';
import { httpEvents, startMiniUpstream, StreamClient, tryUpgrade, withRig, wsMessages } from './helpers.js';
import { eventually, within } from '../support/async.js';
import { tempDir } from '../support/fs.js';
import { call } from '../support/http.js';

const closesOf = (events: readonly { type: string }[]) => events.filter((e): e is WsCloseEvent => e.type === 'ws.close');

test('keep-alive frames from the server and empty pings from the client are relayed and recorded as {text:""}', async () => {
  await withRig({ emulator: { keepAliveMs: 25, bot: { welcome: [] } } }, async ({ emu, rec, load }) => {
    const start = await call(rec.domain, 'POST', '/conversations', { bearer: emu.secret });
    const s = await StreamClient.open(start.json.streamUrl);
    s.ws.send('');
    s.ws.send('');
    await s.waitFor((c) => c.frames.filter((f) => f === '').length >= 3, 'three keep-alives');
    await s.close(1000);
    const got = s.frames.filter((f) => f === '').length;
    assert.equal(s.frames.length, got, 'nothing but keep-alives on this stream');

    const c = await load();
    const server = wsMessages(c).filter((m) => m.from === 'server');
    const client = wsMessages(c).filter((m) => m.from === 'client');
    assert.ok(server.length >= got, `${server.length} server frames recorded, ${got} received`);
    assert.ok(server.every((m) => 'text' in m.data && m.data.text === '' && !('json' in m.data)));
    assert.equal(client.length, 2);
    assert.ok(client.every((m) => JSON.stringify(m.data) === '{"text":""}'));
    assert.ok(wsMessages(c).every((m) => m.conversationId === start.json.conversationId));
  });

  // The emulator ignores client frames, so a tiny upstream of our own shows that pings (and whitespace) arrive.
  const up = await startMiniUpstream();
  const tmp = await tempDir();
  const rec = await startRecorder({ upstream: up.domain, cassette: tmp.file('c.json') });
  try {
    up.onConnection = (m) => {
      m.ws.send('');
      m.ws.send(' \r\n');
    };
    const s = await StreamClient.open(`ws://127.0.0.1:${rec.port}/v3/directline/conversations/conv-1/stream?t=abc`);
    await s.waitFor((c) => c.frames.length === 2, 'two keep-alives');
    assert.deepEqual(s.frames, ['', ' \r\n']);
    s.ws.send('');
    s.ws.send('  ');
    await eventually(() => up.sockets[0]?.received.length === 2, 'pings at the upstream');
    assert.deepEqual(up.sockets[0]!.received, [
      { text: '', binary: false },
      { text: '  ', binary: false },
    ]);
    await s.close();
    await rec.flush();
    const c = await loadCassette(tmp.file('c.json'));
    assert.deepEqual(
      wsMessages(c).map((m) => [m.from, m.data]),
      [
        ['server', { text: '' }],
        ['server', { text: ' \r\n' }],
        ['client', { text: '' }],
        ['client', { text: '  ' }],
      ],
    );
  } finally {
    await rec.close();
    await up.close();
    await tmp.cleanup();
  }
});

test('close codes: a server close reaches the client with its code and reason; collision closes the older socket', async () => {
  await withRig({ emulator: { bot: { welcome: [] } } }, async ({ emu, rec, load }) => {
    const start = await call(rec.domain, 'POST', '/conversations', { bearer: emu.secret });
    const id: string = start.json.conversationId;
    const s0 = await StreamClient.open(start.json.streamUrl);
    emu.dropSocket(id, 1011, 'reason');
    assert.deepEqual(await s0.closedWithin(), { code: 1011, reason: 'reason' });

    // Two sockets on one conversation through the proxy: the upstream closes the first with collision.
    const r1 = await call(rec.domain, 'GET', `/conversations/${id}`, { bearer: emu.secret });
    const s1 = await StreamClient.open(r1.json.streamUrl);
    const r2 = await call(rec.domain, 'GET', `/conversations/${id}`, { bearer: emu.secret });
    const s2 = await StreamClient.open(r2.json.streamUrl);
    assert.deepEqual(await s1.closedWithin(), { code: 4000, reason: 'collision' });
    await call(rec.domain, 'POST', `/conversations/${id}/activities`, {
      bearer: emu.secret,
      body: { type: 'message', text: 'hi', from: { id: 'u' } },
    });
    await s2.waitForText('You said: hi');
    assert.equal(s1.activities.length, 0);
    await s2.close();

    const c = await eventually(async () => {
      const x = await load();
      return closesOf(x.events).length === 3 && x;
    }, 'three closes');
    const opens = c.events.filter((e): e is WsOpenEvent => e.type === 'ws.open');
    assert.deepEqual(
      opens.map((o) => [o.socket, o.status]),
      [
        [0, 101],
        [1, 101],
        [2, 101],
      ],
    );
    assert.deepEqual(
      closesOf(c.events).map((e) => [e.socket, e.by, e.code, e.reason]),
      [
        [0, 'server', 1011, 'reason'],
        [1, 'server', 4000, 'collision'],
        [2, 'client', 1005, ''],
      ],
    );
    assert.ok(closesOf(c.events).every((e) => e.conversationId === id));
    // No frame is recorded on a socket after its close.
    for (const close of closesOf(c.events)) {
      assert.ok(!wsMessages(c, close.socket).some((m) => m.t > close.t));
    }
  });
});

test('close codes: a client close reaches the upstream with its code and reason (and a code-less close stays code-less)', async () => {
  const up = await startMiniUpstream();
  const tmp = await tempDir();
  const rec = await startRecorder({ upstream: up.domain, cassette: tmp.file('c.json') });
  try {
    const url = `ws://127.0.0.1:${rec.port}/v3/directline/conversations/conv-1/stream?t=abc`;
    const a = await StreamClient.open(url);
    await eventually(() => up.sockets.length === 1, 'upstream socket');
    assert.deepEqual(await a.close(4001, 'bye'), { code: 4001, reason: 'bye' });
    assert.deepEqual(await within(up.sockets[0]!.closed, 'the upstream close'), { code: 4001, reason: 'bye' });

    const b = await StreamClient.open(url);
    await eventually(() => up.sockets.length === 2, 'second upstream socket');
    await b.close(); // no code: the peer sees 1005 (reference §2.5)
    assert.deepEqual(await within(up.sockets[1]!.closed, 'the upstream close'), { code: 1005, reason: '' });

    const c = await StreamClient.open(url);
    await eventually(() => up.sockets.length === 3, 'third upstream socket');
    up.sockets[2]!.ws.close(4999, 'x'.repeat(123)); // longest reason a close frame can carry
    assert.deepEqual(await c.closedWithin(), { code: 4999, reason: 'x'.repeat(123) });

    await rec.flush();
    const cas = await loadCassette(tmp.file('c.json'));
    assert.deepEqual(
      closesOf(cas.events).map((e) => [e.socket, e.by, e.code, e.reason]),
      [
        [0, 'client', 4001, 'bye'],
        [1, 'client', 1005, ''],
        [2, 'server', 4999, 'x'.repeat(123)],
      ],
    );
    assert.ok(closesOf(cas.events).every((e) => e.conversationId === 'conv-1'));
  } finally {
    await rec.close();
    await up.close();
    await tmp.cleanup();
  }
});

test('a refused stream handshake (expired t=) reaches the client as the same 403 and is recorded as ws.open 403', async () => {
  await withRig({}, async ({ emu, rec, load }) => {
    const start = await call(rec.domain, 'POST', '/conversations', { bearer: emu.secret });
    const id: string = start.json.conversationId;
    emu.expireStreamTokens();
    const viaProxy = await tryUpgrade(start.json.streamUrl);
    const upstreamUrl =
      `${emu.url.replace(/^http/, 'ws')}/v3/directline/conversations/${id}/stream` + `?watermark=-&t=${emu.issuedTokens().at(-1)}`;
    const direct = await tryUpgrade(upstreamUrl);
    assert.equal(direct.status, 403);
    assert.equal(viaProxy.status, 403);
    assert.deepEqual(JSON.parse(viaProxy.body), JSON.parse(direct.body));
    assert.equal(JSON.parse(viaProxy.body).error.code, 'TokenExpired');
    assert.equal(viaProxy.headers['content-type'], direct.headers['content-type']);

    // A fresh stream URL works again through the same proxy.
    const re = await call(rec.domain, 'GET', `/conversations/${id}`, { bearer: emu.secret });
    const s = await StreamClient.open(re.json.streamUrl);
    await call(rec.domain, 'POST', `/conversations/${id}/activities`, {
      bearer: emu.secret,
      body: { type: 'message', text: 'back', from: { id: 'u' } },
    });
    await s.waitForText('You said: back');
    await s.close();

    const c = await eventually(async () => {
      const x = await load();
      return closesOf(x.events).length === 1 && x;
    }, 'the close');
    const opens = c.events.filter((e): e is WsOpenEvent => e.type === 'ws.open');
    assert.equal(opens.length, 2);
    const refused = opens[0]!;
    assert.equal(refused.status, 403);
    assert.equal(refused.conversationId, id);
    assert.equal(refused.path, `/v3/directline/conversations/${id}/stream`);
    assert.equal(refused.query.t, 'DLVCR_STREAMTOKEN_1');
    assert.equal(refused.response?.status, 403);
    assert.deepEqual((refused.response!.body as { json: unknown }).json, JSON.parse(direct.body));
    assert.match(refused.response?.headers['content-type'] ?? '', /^application\/json/);
    assert.equal(wsMessages(c, refused.socket).length, 0);
    assert.ok(!closesOf(c.events).some((e) => e.socket === refused.socket), 'a refused socket has no close');
    assert.equal(opens[1]!.status, 101);
    assert.deepEqual(
      httpEvents(c).map((e) => e.route),
      ['conversations.start', 'conversations.reconnect', 'activities.post'],
    );
  });
});
