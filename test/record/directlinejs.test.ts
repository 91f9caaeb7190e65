// The official client against the emulator, directly and through the recorder: what the client sees must
// not change, and the cassette must hold every exchange and frame. Plus streamUrl rewriting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { createDirectLine, endDirectLine, postAndWait, waitForActivities, activitiesOf } from '../support/directline-client.js';
import type { Cassette, HttpEvent, WsCloseEvent, WsOpenEvent } from '../../src/cassette/schema.js';
import { assertNonDecreasingT, httpEvents, recordedActivities, shape, StreamClient, tryUpgrade, withRig, wsMessages } from './helpers.js';
import { eventually, sleep } from '../support/async.js';
import { call } from '../support/http.js';

type Mode = 'websocket' | 'polling';

const USER = 'user-1';
const msg = (text: string) => ({ type: 'message', text, from: { id: USER } }) as any;

/** The same script in both modes: welcome, hello → reply, burst 3, end. Returns every activity seen. */
async function runScript(domain: string, mode: Mode, auth: { token?: string; secret?: string }): Promise<any[]> {
  const dl = createDirectLine({ domain, ...auth, webSocket: mode === 'websocket', pollingInterval: 200 });
  try {
    await waitForActivities(dl, (a) => a.some((x) => x.text === 'Welcome to the emulator bot!'));
    await postAndWait(dl, msg('hello'));
    await waitForActivities(dl, (a) => a.some((x) => x.text === 'You said: hello'));
    await postAndWait(dl, msg('burst 3'));
    await waitForActivities(dl, (a) => a.some((x) => x.text === 'burst 3/3'));
    await postAndWait(dl, msg('end'));
    await waitForActivities(dl, (a) => a.some((x) => x.type === 'endOfConversation'));
    return [...activitiesOf(dl)];
  } finally {
    endDirectLine(dl);
  }
}

/** Waits until the emulator got no request for `quietMs` (the client's last poll is answered). */
async function settle(emu: Emulator, quietMs = 350): Promise<void> {
  let n = -1;
  await eventually(
    async () => {
      if (emu.requests.length === n) return true;
      n = emu.requests.length;
      await sleep(quietMs);
      return false;
    },
    'the emulator to go quiet',
    5000,
  );
}

const EXPECTED: Record<Mode, string[]> = {
  websocket: [
    'message:Welcome to the emulator bot!:bot',
    'message:hello:user',
    'typing::bot',
    'message:You said: hello:bot',
    'message:burst 3:user',
    'typing::bot',
    'message:burst 1/3:bot',
    'message:burst 2/3:bot',
    'message:burst 3/3:bot',
    'message:end:user',
    'endOfConversation::bot',
  ],
  // Typing is WS-only (reference §2.6).
  polling: [
    'message:Welcome to the emulator bot!:bot',
    'message:hello:user',
    'message:You said: hello:bot',
    'message:burst 3:user',
    'message:burst 1/3:bot',
    'message:burst 2/3:bot',
    'message:burst 3/3:bot',
    'message:end:user',
    'endOfConversation::bot',
  ],
};

/** `METHOD path?query` of a recorded request, comparable with the emulator's request log. */
function requestLine(e: HttpEvent): string {
  const q = new URLSearchParams(e.request.query).toString();
  return `${e.request.method} ${e.request.path}${q ? `?${q}` : ''}`;
}

for (const mode of ['websocket', 'polling'] as const) {
  test(`directlinejs (${mode}): same activities directly and via the recorder; the cassette holds every exchange and frame`, async () => {
    // Directly against the emulator.
    const emu = await startEmulator({});
    let direct: any[];
    try {
      const auth =
        mode === 'websocket'
          ? { token: (await call(emu.domain, 'POST', '/tokens/generate', { bearer: emu.secret })).json.token }
          : { secret: emu.secret };
      direct = await runScript(emu.domain, mode, auth);
    } finally {
      await emu.close();
    }
    assert.deepEqual(direct.map(shape), EXPECTED[mode]);

    // Through the recorder.
    await withRig({}, async ({ emu, rec, load }) => {
      let generated: any;
      if (mode === 'websocket') {
        generated = await call(rec.domain, 'POST', '/tokens/generate', { bearer: emu.secret });
        assert.equal(generated.status, 200);
      }
      const proxied = await runScript(rec.domain, mode, mode === 'websocket' ? { token: generated.json.token } : { secret: emu.secret });
      assert.deepEqual(proxied.map(shape), direct.map(shape), 'the client sees the same activities in the same order');
      assert.deepEqual(
        proxied.map((a) => a.from?.id),
        direct.map((a) => a.from?.id),
      );

      const [conversationId] = emu.conversations();
      assert.ok(conversationId);
      assert.equal(emu.conversations().length, 1);
      let cassette: Cassette;
      if (mode === 'websocket') {
        // end() closes the client's socket; wait for that close to be relayed and recorded.
        cassette = await eventually(async () => {
          const c = await load();
          return c.events.some((e) => e.type === 'ws.close') && c;
        }, 'the client close in the cassette');
      } else {
        await settle(emu);
        cassette = await load();
      }
      assertNonDecreasingT(cassette.events);
      assert.ok(
        cassette.events.every((e) => e.conversationId === conversationId),
        'every event carries the conversation id',
      );
      assert.equal(cassette.upstream.origin, emu.url);
      assert.equal(cassette.upstream.basePath, '/v3/directline');

      // Every exchange that reached the emulator is in the cassette, and nothing else.
      const upstreamLines = emu.requests.filter((r) => r.method !== 'OPTIONS' && !r.headers.upgrade).map((r) => `${r.method} ${r.path}`);
      const http = httpEvents(cassette);
      assert.deepEqual(http.map(requestLine).sort(), upstreamLines.sort());
      const base = '/v3/directline';
      for (const e of http) {
        const expected: Record<string, [string, string, number]> = {
          'tokens.generate': ['POST', `${base}/tokens/generate`, 200],
          'conversations.start': ['POST', `${base}/conversations`, 201],
          'activities.post': ['POST', `${base}/conversations/${conversationId}/activities`, 200],
          'activities.get': ['GET', `${base}/conversations/${conversationId}/activities`, 200],
        };
        const want = expected[e.route];
        assert.ok(want, `unexpected route ${e.route}`);
        assert.deepEqual([e.request.method, e.request.path, e.response?.status], want, e.route);
        assert.equal(e.error, undefined);
      }
      const routes = http.map((e) => e.route);
      assert.equal(routes.filter((r) => r === 'conversations.start').length, 1);
      assert.equal(routes.filter((r) => r === 'activities.post').length, 3);
      assert.deepEqual(
        http.filter((e) => e.route === 'activities.post').map((e) => (e.request.body as { json: any }).json.text),
        ['hello', 'burst 3', 'end'],
      );

      if (mode === 'websocket') {
        assert.deepEqual(routes.slice(0, 2), ['tokens.generate', 'conversations.start']);
        assert.ok(!routes.includes('activities.get'), 'no polling in WebSocket mode');
        const opens = cassette.events.filter((e): e is WsOpenEvent => e.type === 'ws.open');
        assert.equal(opens.length, 1);
        assert.equal(opens[0]!.status, 101);
        assert.equal(opens[0]!.path, `${base}/conversations/${conversationId}/stream`);
        assert.equal(opens[0]!.query.watermark, '-');
        // Every frame the client saw, in order, from the server, on that socket.
        const frames = wsMessages(cassette);
        assert.ok(frames.every((f) => f.from === 'server' && f.socket === opens[0]!.socket));
        assert.deepEqual(recordedActivities(cassette).map(shape), proxied.map(shape));
        const closes = cassette.events.filter((e): e is WsCloseEvent => e.type === 'ws.close');
        assert.equal(closes.length, 1);
        assert.equal(closes[0]!.by, 'client');
        // The start response precedes the stream; the stream precedes its frames; the close comes last.
        const idx = (pred: (e: any) => boolean) => cassette.events.findIndex(pred);
        assert.ok(idx((e) => e.route === 'conversations.start') < idx((e) => e.type === 'ws.open'));
        assert.ok(idx((e) => e.type === 'ws.open') < idx((e) => e.type === 'ws.message'));
        assert.equal(cassette.events.at(-1)!.type, 'ws.close');
      } else {
        assert.equal(routes[0], 'conversations.start');
        assert.equal(wsMessages(cassette).length, 0);
        assert.ok(!cassette.events.some((e) => e.type === 'ws.open'));
        // The polls' answers, concatenated, are exactly what the client saw.
        const polled = http.filter((e) => e.route === 'activities.get').flatMap((e) => (e.response!.body as { json: any }).json.activities);
        assert.deepEqual(polled.map(shape), proxied.map(shape));
      }
    });
  });
}

test('streamUrl: start and reconnect answers point the client at the proxy; the cassette keeps the upstream URL, t= redacted', async () => {
  await withRig({}, async ({ emu, rec, load }) => {
    const emuWs = emu.url.replace(/^http/, 'ws');
    const start = await call(rec.domain, 'POST', '/conversations', { bearer: emu.secret, body: {} });
    assert.equal(start.status, 201);
    const id: string = start.json.conversationId;
    const t1 = emu.issuedTokens().at(-1)!;
    assert.equal(start.json.streamUrl, `ws://127.0.0.1:${rec.port}/v3/directline/conversations/${id}/stream?watermark=-&t=${t1}`);
    // Only the streamUrl changed: the rest of the body is the upstream's.
    assert.equal(start.json.token, emu.issuedTokens().at(-2));
    assert.equal(Number(start.headers.get('content-length')), Buffer.byteLength(start.text));

    const s1 = await StreamClient.open(start.json.streamUrl);
    await s1.waitForText('Welcome to the emulator bot!');

    const re = await call(rec.domain, 'GET', `/conversations/${id}?watermark=0`, { bearer: start.json.token });
    assert.equal(re.status, 200);
    const t2 = emu.issuedTokens().at(-1)!;
    assert.equal(re.json.streamUrl, `ws://127.0.0.1:${rec.port}/v3/directline/conversations/${id}/stream?watermark=0&t=${t2}`);
    const s2 = await StreamClient.open(re.json.streamUrl);
    await call(rec.domain, 'POST', `/conversations/${id}/activities`, { bearer: re.json.token, body: msg('again') });
    await s2.waitForText('You said: again');
    assert.deepEqual(await s1.closedWithin(), { code: 4000, reason: 'collision' });
    await s2.close();

    // Both sockets went to the upstream's own stream URLs (with the real t=).
    const upgrades = emu.requests.filter((r) => r.headers.upgrade === 'websocket').map((r) => r.path);
    assert.deepEqual(upgrades, [
      `/v3/directline/conversations/${id}/stream?watermark=-&t=${t1}`,
      `/v3/directline/conversations/${id}/stream?watermark=0&t=${t2}`,
    ]);

    const c = await load();
    const [startEv, reEv] = httpEvents(c).filter((e) => e.route === 'conversations.start' || e.route === 'conversations.reconnect');
    assert.equal(
      (startEv!.response!.body as any).json.streamUrl,
      `${emuWs}/v3/directline/conversations/${id}/stream?watermark=-&t=DLVCR_STREAMTOKEN_1`,
    );
    assert.equal(
      (reEv!.response!.body as any).json.streamUrl,
      `${emuWs}/v3/directline/conversations/${id}/stream?watermark=0&t=DLVCR_STREAMTOKEN_2`,
    );
    const opens = c.events.filter((e): e is WsOpenEvent => e.type === 'ws.open');
    assert.deepEqual(
      opens.map((o) => o.query),
      [
        { watermark: '-', t: 'DLVCR_STREAMTOKEN_1' },
        { watermark: '0', t: 'DLVCR_STREAMTOKEN_2' },
      ],
    );
    assert.equal(c.redaction.placeholders.DLVCR_STREAMTOKEN_2, 'streamToken');
  });
});

test('streamUrl with a non-default upstream prefix; requests outside the prefix get 404 and never reach the upstream', async () => {
  await withRig({ emulator: { basePath: '/custom/dl' } }, async ({ emu, rec, load }) => {
    assert.equal(rec.domain, `http://127.0.0.1:${rec.port}/custom/dl`);
    const start = await call(rec.domain, 'POST', '/conversations', { bearer: emu.secret });
    assert.equal(start.status, 201);
    const id: string = start.json.conversationId;
    const url = new URL(start.json.streamUrl);
    assert.equal(url.origin, `ws://127.0.0.1:${rec.port}`);
    assert.equal(url.pathname, `/custom/dl/conversations/${id}/stream`);
    assert.equal(url.searchParams.get('t'), emu.issuedTokens().at(-1));
    const s = await StreamClient.open(start.json.streamUrl);
    await s.waitForText('Welcome to the emulator bot!');
    await s.close();

    const before = emu.requests.length;
    for (const path of ['/v3/directline/conversations', '/custom/dlx/conversations', '/', '/custom']) {
      const r = await call(rec.url, 'POST', path, { bearer: emu.secret, body: {} });
      assert.equal(r.status, 404, path);
      assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
      assert.equal(typeof r.json.error.code, 'string', path);
      assert.match(r.json.error.message, /\/custom\/dl/, 'the message names the prefix it serves');
    }
    // A stream upgrade outside the prefix is refused the same way.
    const outside = await tryUpgrade(
      `ws://127.0.0.1:${rec.port}/v3/directline/conversations/${id}/stream?watermark=-&t=${emu.issuedTokens().at(-1)}`,
    );
    assert.equal(outside.status, 404);
    assert.equal(typeof JSON.parse(outside.body).error.code, 'string');
    assert.equal(emu.requests.length, before, 'nothing outside the prefix reached the emulator');

    const c = await load();
    assert.deepEqual(
      httpEvents(c).map((e) => e.route),
      ['conversations.start'],
    );
    assert.equal(c.upstream.basePath, '/custom/dl');
    assert.equal(
      (httpEvents(c)[0]!.response!.body as any).json.streamUrl,
      `${emu.url.replace(/^http/, 'ws')}/custom/dl/conversations/${id}/stream?watermark=-&t=DLVCR_STREAMTOKEN_1`,
    );
  });
});
