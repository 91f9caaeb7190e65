// Hostile input to both servers (the recorder and the replayer) and to the cassette loader. Every case must get
// a clear answer (a status with a Direct Line-shaped body, a WebSocket close code, or a CassetteError naming the
// file), nothing may reach any host but the configured upstream (a canary listener counts attempts), and after
// each case a normal request still works.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, open, writeFile } from 'node:fs/promises';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { startRecorder, type Recorder } from '../../src/record/recorder.js';
import { startReplayer, type Replayer } from '../../src/replay/index.js';
import { CassetteError, loadCassette, parseCassette, validateCassette } from '../../src/cassette/load.js';
import { stringifyCassette } from '../../src/cassette/serialize.js';
import type { Cassette } from '../../src/cassette/schema.js';
import { wsCassette, WS_TEXTS } from '../replay/fixtures.js';
import { eventually, sleep } from '../support/async.js';
import { tempDir } from '../support/fs.js';
import { call } from '../support/http.js';
import { startCanary, type Canary } from './canary.js';
import { spawnRecorder } from './processes.js';
import { clientFrame, rawExchange, rawWebSocket, sendHalfAndVanish } from './raw-sockets.js';
import { Stream } from './stream-client.js';
import { Tap } from './tap.js';

const RECORDER_MAX_BODY = 64 * 1024;

/** The parts of a hostile-input rig the cases need, whichever server it is. */
interface Target {
  name: 'recorder' | 'replay';
  port: number;
  domain: string;
  basePath: string;
  /** A fresh stream URL (path + query) on this server, for WebSocket cases. */
  streamPath(): Promise<string>;
  /** A normal request and a normal stream: both must still work. */
  healthy(): Promise<void>;
  /** Upstream stream connections still open (recorder only; 0 for replay). */
  upstreamStreams(): number;
}

let canary: Canary;
let emu: Emulator;
let tap: Tap;
let rec: Recorder;
let replay: Replayer;
let tmp: Awaited<ReturnType<typeof tempDir>>;
const targets: Target[] = [];

before(async () => {
  canary = await startCanary();
  tmp = await tempDir();
  emu = await startEmulator({});
  tap = new Tap({ host: '127.0.0.1', port: Number(new URL(emu.url).port) });
  await tap.listen();
  rec = await startRecorder({
    upstream: `${tap.origin}/v3/directline`,
    cassette: tmp.file('hostile.json'),
    maxBodyBytes: RECORDER_MAX_BODY,
    flushIntervalMs: 50,
  });
  replay = await startReplayer({ cassette: wsCassette(), speed: 0 });

  const recStart = async () => {
    const r = await call(rec.domain, 'POST', '/conversations', { bearer: emu.secret });
    assert.equal(r.status, 201, `recorder: normal start answered ${r.status} ${r.text}`);
    return r.json as { conversationId: string; streamUrl: string };
  };
  const replayStart = async () => {
    const gen = await call(replay.domain, 'POST', '/tokens/generate', { bearer: 'live-secret', body: { user: { id: 'dl_hostile' } } });
    assert.equal(gen.status, 200, `replay: normal generate answered ${gen.status} ${gen.text}`);
    const r = await call(replay.domain, 'POST', '/conversations', { bearer: gen.json.token, body: { user: { id: 'dl_hostile' } } });
    assert.equal(r.status, 201, `replay: normal start answered ${r.status} ${r.text}`);
    return r.json as { conversationId: string; streamUrl: string };
  };
  const pathOf = (u: string) => {
    const url = new URL(u);
    return url.pathname + url.search;
  };
  targets.push({
    name: 'recorder',
    port: rec.port,
    domain: rec.domain,
    basePath: '/v3/directline',
    streamPath: async () => pathOf((await recStart()).streamUrl),
    healthy: async () => {
      const conv = await recStart();
      const s = await Stream.open(conv.streamUrl);
      await s.waitFor(() => s.count('Welcome to the emulator bot!') === 1, 'the welcome');
      await s.close();
    },
    upstreamStreams: () => [...tap.connections].filter((c) => c.firstLine.includes('/stream')).length,
  });
  targets.push({
    name: 'replay',
    port: replay.port,
    domain: replay.domain,
    basePath: '/v3/directline',
    streamPath: async () => pathOf((await replayStart()).streamUrl),
    healthy: async () => {
      const conv = await replayStart();
      const s = await Stream.open(conv.streamUrl);
      await s.waitFor(() => s.count('Welcome to the emulator bot!') === 1, 'the welcome');
      await s.close();
    },
    upstreamStreams: () => 0,
  });
});

after(async () => {
  await replay?.close();
  await rec?.close();
  await tap?.stop();
  await emu?.close();
  await canary?.close();
  await tmp?.cleanup();
});

/** Asserts a Direct Line-shaped JSON error body in a raw HTTP response text. */
function errorOf(raw: string): { code: string; message: string } {
  const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
  const json = JSON.parse(body);
  assert.equal(typeof json.error?.code, 'string', `error body: ${body.slice(0, 300)}`);
  assert.equal(typeof json.error?.message, 'string');
  return json.error;
}

for (const which of ['recorder', 'replay'] as const) {
  describe(`hostile HTTP to the ${which}`, () => {
    const t = () => targets.find((x) => x.name === which)!;

    test('malformed JSON bodies get a 400 with a Direct Line error body', async () => {
      const target = t();
      const path = await target.streamPath();
      const id = decodeURIComponent(/conversations\/([^/]+)\/stream/.exec(path)![1]!);
      // The recorder forwards it (the upstream judges it); the replayer refuses it as no JSON activity.
      for (const body of [
        '{"type":"message","text":',
        'not json at all',
        '[1,2',
        '\u0000\u00ff\u0001',
        '{"type":"message","text":"x"}}}',
      ]) {
        const bearer = which === 'recorder' ? emu.secret : 'whatever';
        const r = await call(target.domain, 'POST', `/conversations/${encodeURIComponent(id)}/activities`, {
          bearer,
          raw: body,
          headers: { 'content-type': 'application/json' },
        });
        assert.equal(r.status, 400, `${JSON.stringify(body)} → ${r.status} ${r.text}`);
        assert.equal(typeof r.json?.error?.code, 'string');
      }
      await target.healthy();
    });

    test('bodies over the size limit get 413 (declared length and chunked), nothing is forwarded', async () => {
      const target = t();
      const limit = which === 'recorder' ? RECORDER_MAX_BODY : 64 * 1024 * 1024;
      const requestsBefore = emu.requests.length;
      const declared = await rawExchange(
        target.port,
        [
          `POST ${target.basePath}/conversations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ` +
            `${limit + 1}\r\n\r\n{"a":`,
        ],
        { untilResponse: true, timeoutMs: 5000 },
      );
      assert.equal(declared.status, 413, declared.text.slice(0, 300));
      assert.equal(errorOf(declared.text).code, 'BadArgument');
      // Chunked, no declared length: the limit is found while reading.
      const chunk = Buffer.alloc(1024 * 1024, 0x61);
      const chunks: Buffer[] = [
        Buffer.from(
          `POST ${target.basePath}/conversations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: ` +
            'chunked\r\n\r\n',
        ),
      ];
      const needed = Math.ceil((limit + 1) / chunk.length);
      for (let i = 0; i < needed; i++)
        chunks.push(Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]));
      const streamed = await rawExchange(target.port, chunks, { untilResponse: true, timeoutMs: 15_000 });
      assert.equal(
        streamed.status,
        413,
        `chunked over-limit body: ${JSON.stringify(streamed.text.slice(0, 300))} (closed by server: ${streamed.closedByServer})`,
      );
      assert.equal(errorOf(streamed.text).code, 'BadArgument');
      assert.equal(emu.requests.length, requestsBefore, 'nothing reached the upstream');
      await target.healthy();
    });

    test('bad paths get a 4xx with an error body', async () => {
      const target = t();
      const base = target.basePath;
      const paths = [
        '/',
        '/nope',
        '/v3',
        `${base}`,
        `${base}/`,
        `${base}/conversations/x/y/z`,
        `${base}/%zz`,
        `${base}/conversations/%00/activities`,
        `${base}/../../../../etc/passwd`,
        `${base}/%2e%2e/%2e%2e/admin`,
        `${base}/conversations/..%2f..%2fadmin/activities`,
        `${base}/conversations/${'a'.repeat(6000)}/activities`,
        `${base}/tokens/generate?${'x='.repeat(2000)}`,
        '//evil.example/v3/directline/conversations',
      ];
      for (const path of paths) {
        const r = await rawExchange(target.port, [`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`], {
          timeoutMs: 5000,
        });
        assert.ok(r.status !== null && r.status >= 400 && r.status < 500, `${path.slice(0, 80)} → ${r.status} ${r.text.slice(0, 200)}`);
        errorOf(r.text);
      }
      // Header section over Node's limit: the server refuses it without a body, and survives.
      const huge = await rawExchange(target.port, [`GET ${base}/${'b'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`], { timeoutMs: 5000 });
      assert.ok(
        huge.status === 431 || huge.status === 400 || (huge.status === null && huge.closedByServer),
        `a 20 kB request line → ${huge.status}`,
      );
      assert.deepEqual(canary.hits, []);
      await target.healthy();
    });

    test('absolute-form request URLs, CONNECT and forged Host headers never reach another host', async () => {
      const target = t();
      const c = canary.origin.replace('http://', '');
      const attempts = [
        `GET http://${c}/v3/directline/conversations HTTP/1.1\r\nHost: ${c}\r\nConnection: close\r\n\r\n`,
        `POST http://${c}${target.basePath}/conversations HTTP/1.1\r\nHost: ${c}\r\nAuthorization: Bearer ` +
          `${emu.secret}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
        `GET http://evil.example/ HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n`,
        `CONNECT ${c} HTTP/1.1\r\nHost: ${c}\r\n\r\n`,
        `GET ws://${c}${target.basePath}/conversations/abc/stream?t=x HTTP/1.1\r\nHost: ${c}\r\nUpgrade: ` +
          'websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      ];
      for (const a of attempts) {
        const r = await rawExchange(target.port, [a], { timeoutMs: 3000 });
        const line = a.split('\r\n')[0];
        if (a.startsWith('CONNECT')) assert.ok(r.status === null || r.status >= 400, `${line} → ${r.status}`);
        else if (which === 'recorder') assert.ok(r.status === 400 || r.status === 404, `${line} → ${r.status} ${r.text.slice(0, 200)}`);
        // The replayer serves absolute-form targets as its own paths (RFC 9112 §3.2.2: a server must accept them); it
        // never contacts any host, so it cannot be an open proxy. It must answer, with its own content only.
        else assert.ok(r.status !== null && !r.text.includes('canary'), `${line} → ${r.status} ${r.text.slice(0, 200)}`);
      }
      // A forged Host on an ordinary request: the request goes to the configured upstream only.
      const forged = await rawExchange(
        target.port,
        [
          `POST ${target.basePath}/conversations HTTP/1.1\r\nHost: ${c}\r\nAuthorization: Bearer ` +
            `${which === 'recorder' ? emu.secret : 'x'}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
        ],
        { timeoutMs: 5000 },
      );
      // 200: the replayer saw bearer x resume a conversation above (the absolute-form stream upgrade with t=x), and a
      // start with a conversation's token answers that conversation, as the service does.
      assert.ok(
        forged.status === 201 || forged.status === 200 || forged.status === 404,
        `forged Host → ${forged.status} ${forged.text.slice(0, 200)}`,
      );
      if (forged.status === 201 || forged.status === 200) {
        const body = JSON.parse(forged.text.slice(forged.text.indexOf('\r\n\r\n') + 4));
        // The stream URL names the Host the client used (the recorder reflects it by design, the replayer bound to
        // 127.0.0.1 does not); the upgrade still goes to the configured upstream whatever Host it carries.
        const u = new URL(body.streamUrl);
        const s = await Stream.open(`ws://127.0.0.1:${target.port}${u.pathname}${u.search}`, { headers: { host: c } });
        await s.waitFor(() => s.frames.length >= 1, 'a frame on the stream opened with a forged Host');
        await s.close();
      }
      await sleep(100);
      assert.deepEqual(canary.hits, [], 'nothing reached the canary');
      await target.healthy();
    });

    const upgrade = (path: string, opts: { key?: string; upgradeTo?: string; version?: string; method?: string } = {}) =>
      `${opts.method ?? 'GET'} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: ${opts.upgradeTo ?? 'websocket'}\r\nConnection: ` +
      'Upgrade\r\n' +
      `${opts.key === '' ? '' : `Sec-WebSocket-Key: ${opts.key ?? 'dGhlIHNhbXBsZSBub25jZQ=='}\r\n`}Sec-WebSocket-Version: ` +
      `${opts.version ?? '13'}\r\n\r\n`;

    test('upgrade requests on wrong paths get a 4xx with an error body', async () => {
      const target = t();
      const base = target.basePath;
      const before = target.upstreamStreams();
      for (const path of [
        '/',
        '/elsewhere/stream',
        `${base}/conversations`,
        `${base}/conversations/abc/activities`,
        `${base}/conversations/no-such-conversation/stream`,
        `${base}/conversations/${'x'.repeat(300)}/stream?t=x`,
        `${base}/conversations//stream`,
      ]) {
        const r = await rawExchange(target.port, [upgrade(path)], { timeoutMs: 5000 });
        assert.ok(r.status !== null && r.status >= 400 && r.status < 500, `${path} → ${r.status} ${r.text.slice(0, 200)}`);
        // The recorder forwards a stream request for an unknown conversation to the upstream, which refuses it.
        errorOf(r.text);
      }
      assert.ok(target.upstreamStreams() <= before, 'no upstream stream opened');
      await target.healthy();
    });

    // Found here: the recorder once opened the upstream stream before it validated the client's handshake and never
    // closed it when the handshake then failed.
    test('malformed WebSocket handshakes on a valid stream path get a 400 and leave no upstream socket open', async () => {
      const target = t();
      const firstNew = tap.history.length;
      try {
        const cases: Array<[string, (p: string) => string, number]> = [
          ['no Sec-WebSocket-Key', (p) => upgrade(p, { key: '' }), 400],
          ['a malformed Sec-WebSocket-Key', (p) => upgrade(p, { key: 'short' }), 400],
          ['Upgrade: h2c', (p) => upgrade(p, { upgradeTo: 'h2c' }), 400],
          ['Sec-WebSocket-Version 7', (p) => upgrade(p, { version: '7' }), 400],
          ['a POST', (p) => upgrade(p, { method: 'POST' }), 400],
        ];
        const problems: string[] = [];
        for (const [what, req, status] of cases) {
          const path = await target.streamPath();
          const before = target.upstreamStreams();
          const r = await rawExchange(target.port, [req(path)], { timeoutMs: 5000 });
          if (!(r.status !== null && r.status >= 400 && r.status < 500)) problems.push(`${what} → ${r.status} (expected ${status})`);
          if (which === 'replay') errorOf(r.text);
          await sleep(100);
          const leaked = target.upstreamStreams() - before;
          if (leaked > 0) problems.push(`${what}: ${leaked} upstream stream(s) left open`);
        }
        assert.deepEqual(problems, []);
      } finally {
        // Whatever leaked is cut here so that the tests after this one start clean.
        tap.cut((c) => c.id >= firstNew && c.firstLine.includes('/stream'));
      }
      await target.healthy();
    });

    test('invalid WebSocket frames after a valid upgrade: close 1002/1007/1009, upstream socket closes, the server survives', async () => {
      const target = t();
      const maxPayload = which === 'recorder' ? RECORDER_MAX_BODY : 100 * 1024 * 1024;
      const cases: Array<[string, Buffer, number[]]> = [
        ['a reserved opcode (0x3)', clientFrame(0x3, Buffer.from('x')), [1002]],
        ['an unmasked client frame', clientFrame(0x1, Buffer.from('{}'), { masked: false }), [1002]],
        ['RSV1 without an extension', clientFrame(0x1, Buffer.from('{}'), { rsv: 4 }), [1002]],
        ['a fragmented ping', clientFrame(0x9, Buffer.from('p'), { fin: false }), [1002]],
        ['invalid UTF-8 text', clientFrame(0x1, Buffer.from([0xc3, 0x28, 0xff])), [1007]],
        ['a frame declaring more than the maximum payload', clientFrame(0x1, Buffer.alloc(0), { declaredLength: maxPayload + 1 }), [1009]],
        ['a frame declaring 2^62 bytes', clientFrame(0x2, Buffer.alloc(0), { declaredLength: 2 ** 62 }), [1009]],
        ['a close frame with an invalid code', clientFrame(0x8, Buffer.from([0x03, 0xe7])), [1002]],
      ];
      for (const [what, bytes, codes] of cases) {
        const path = await target.streamPath();
        const before = target.upstreamStreams();
        const ws = await rawWebSocket(target.port, path);
        await sleep(20);
        ws.socket.write(bytes);
        await Promise.race([ws.closed, sleep(5000)]);
        assert.ok(ws.socket.destroyed || ws.socket.readableEnded, `${what}: the server closed the connection`);
        assert.ok(codes.includes(ws.closeCode() ?? -1), `${what}: close code ${ws.closeCode()} (expected ${codes.join('/')})`);
        ws.socket.destroy();
        await eventually(
          () => target.upstreamStreams() <= before,
          () => `${what}: ${target.upstreamStreams() - before} upstream stream(s) still open`,
          3000,
        );
      }
      await target.healthy();
    });

    test('half-sent requests and upgrades, then a disconnect: nothing is forwarded half, the server survives', async () => {
      const target = t();
      const requestsBefore = emu.requests.length;
      const path = await target.streamPath();
      const afterStart = emu.requests.length;
      const streamsBefore = target.upstreamStreams();
      const halves = [
        `POST ${target.basePath}/conversations HTTP/1.1\r\nHost: x\r\nContent-Le`,
        `POST ${target.basePath}/conversations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${emu.secret}\r\nContent-Type: ` +
          'application/json\r\nContent-Length: 1000\r\n\r\n{"user":{"id":',
        `POST ${target.basePath}/conversations HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{"user":`,
        `GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Ke`,
        'GET /v3/directline/conv',
      ];
      for (const h of halves) for (const ms of [0, 30]) await sendHalfAndVanish(target.port, h, ms);
      await sleep(100);
      if (which === 'recorder') assert.equal(emu.requests.length, afterStart, 'no half request reached the upstream');
      assert.ok(afterStart >= requestsBefore);
      await eventually(() => target.upstreamStreams() <= streamsBefore, 'no upstream stream left by a half-sent upgrade', 3000);
      await target.healthy();
    });
  });
}

test('replay: a malformed handshake does not use up the recorded socket a real client then gets (keep-alives, server closes)', async () => {
  const gen = await call(replay.domain, 'POST', '/tokens/generate', { bearer: 'x', body: { user: { id: 'dl_ordinal' } } });
  const st = await call(replay.domain, 'POST', '/conversations', { bearer: gen.json.token, body: { user: { id: 'dl_ordinal' } } });
  const u = new URL(st.json.streamUrl);
  const bad = await rawExchange(
    replay.port,
    [`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n`],
    { timeoutMs: 3000 },
  );
  assert.equal(bad.status, 400);
  assert.match(errorOf(bad.text).message, /Sec-WebSocket-Key/);
  // The recorded socket #1 carries a keep-alive that the POST "burst 3" causes: the real client, whose upgrade is the
  // first well-formed one, plays socket #1 and gets it.
  const s = await Stream.open(st.json.streamUrl);
  const path = `/conversations/${encodeURIComponent(st.json.conversationId)}/activities`;
  for (const text of ['hello', 'burst 3']) {
    const r = await call(replay.domain, 'POST', path, {
      bearer: st.json.token,
      body: { type: 'message', text, from: { id: 'dl_ordinal' }, channelData: { clientActivityID: `o-${text}` } },
    });
    assert.equal(r.status, 200, r.text);
  }
  await s.waitFor(() => s.frames.some((f) => f.text === ''), 'the recorded keep-alive of socket #1', 3000);
  await s.close();
});

// Found here: walks over stored JSON are recursive, and a client that sent JSON nested a few thousand levels deep (a
// 10 kB POST body or one WebSocket frame) once overflowed the recorder's stack. Such JSON is now kept as text, and
// capture errors are logged instead of thrown. A child process each, so a regression shows as a dead process.
test('deeply nested JSON from a client (POST body, WebSocket frame) does not kill the recorder', {
  timeout: 60_000,
}, async () => {
  const problems: string[] = [];
  for (const via of ['POST body', 'WebSocket frame'] as const) {
    const depth = via === 'POST body' ? 3000 : 2000;
    const nested = `{"type":"message","text":"deep","from":{"id":"u"},"channelData":${'['.repeat(depth)}1${']'.repeat(depth)}}`;
    const child = await spawnRecorder([
      '--upstream',
      emu.domain,
      '--cassette',
      tmp.file(`deep-${via.replace(' ', '-')}.json`),
      '--log-level',
      'warn',
    ]);
    try {
      const st = await call(child.domain, 'POST', '/conversations', { bearer: emu.secret });
      assert.equal(st.status, 201);
      if (via === 'POST body') {
        await call(child.domain, 'POST', `/conversations/${encodeURIComponent(st.json.conversationId)}/activities`, {
          bearer: emu.secret,
          raw: nested,
          headers: { 'content-type': 'application/json' },
        }).catch(() => undefined);
      } else {
        const s = await Stream.open(st.json.streamUrl);
        s.ws.send(nested);
        await Promise.race([s.closed, sleep(500)]);
        s.ws.terminate();
      }
      await sleep(300);
      const alive = child.child.exitCode === null && child.child.signalCode === null;
      const next = alive
        ? await call(child.domain, 'POST', '/conversations', { bearer: emu.secret }).then(
            (r) => r.status,
            () => 0,
          )
        : 0;
      if (!alive || next !== 201) {
        const fate = alive ? `answered the next request with ${next}` : `exited (${child.child.exitCode ?? child.child.signalCode})`;
        const error =
          child
            .stderr()
            .split('\n')
            .find((l) => l.includes('Error')) ?? '';
        problems.push(`${via} nested ${depth} deep: recorder ${fate}: ${error}`);
      }
    } finally {
      await child.kill();
    }
  }
  assert.deepEqual(problems, []);
});

describe('hostile cassettes', () => {
  const good = wsCassette();
  const goodText = stringifyCassette(good);

  const files: Array<[string, string | Buffer, RegExp]> = [
    ['empty', '', /empty/],
    ['whitespace', ' \n\t ', /empty/],
    ['not JSON', 'hello, cassette', /not valid JSON/],
    ['truncated in the header', goodText.slice(0, 40), /not valid JSON.*truncated/],
    ['truncated mid-event', goodText.slice(0, Math.floor(goodText.length / 2)), /not valid JSON.*truncated/],
    ['truncated one byte short', goodText.trimEnd().slice(0, -1), /not valid JSON/],
    ['a JSON array', '[]', /expected a JSON object/],
    ['null', 'null', /expected a JSON object/],
    ['a string', '"cassette"', /expected a JSON object/],
    ['version 2', JSON.stringify({ ...good, version: 2 }), /version 2 is not supported.*version 1/],
    ['version "1"', JSON.stringify({ ...good, version: '1' }), /version "1" is not supported/],
    ['no version', JSON.stringify({ ...good, version: undefined }), /version undefined is not supported/],
    ['no events', JSON.stringify({ ...good, events: undefined }), /events/],
    ['events not an array', JSON.stringify({ ...good, events: {} }), /events/],
    ['an unknown event type', JSON.stringify({ ...good, events: [{ ...good.events[0], type: 'ftp' }] }), /events\[0\]/],
    ['a negative time', JSON.stringify({ ...good, events: [{ ...good.events[0], t: -1 }] }), /events\[0\]\.t/],
    ['time going backwards', JSON.stringify({ ...good, events: [good.events[1], good.events[0]] }), /time goes backwards/],
    [
      'an HTTP status of 42',
      JSON.stringify({ ...good, events: [{ ...good.events[0], response: { status: 42, headers: {}, body: null } }] }),
      /status/,
    ],
    ['an extra top-level key', JSON.stringify({ ...good, extra: true }), /invalid cassette/],
    ['a UTF-8 BOM', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(goodText)]), /not valid JSON/],
    ['UTF-16', Buffer.from(goodText, 'utf16le'), /not valid JSON/],
    ['binary noise', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)), /not valid JSON/],
  ];

  for (const [what, content, message] of files) {
    test(`${what}: CassetteError naming the file, from loadCassette and startReplayer`, async () => {
      const file = tmp.file(`bad-${what.replace(/\W+/g, '-')}.json`);
      await writeFile(file, content);
      await assert.rejects(loadCassette(file), (err: unknown) => {
        assert.ok(err instanceof CassetteError, `${what}: ${String(err)}`);
        assert.equal(err.file, file);
        assert.ok(err.message.startsWith(`${file}: `), err.message);
        assert.match(err.message, message);
        return true;
      });
      await assert.rejects(
        startReplayer({ cassette: file, speed: 0 }),
        (err: unknown) => err instanceof CassetteError && err.message.includes(file),
      );
    });
  }

  test('missing file and a file over the size limit: CassetteError naming the file', async () => {
    const missing = tmp.file('no-such-cassette.json');
    await assert.rejects(
      loadCassette(missing),
      (err: unknown) => err instanceof CassetteError && /ENOENT/.test(err.message) && err.message.includes(missing),
    );
    // A sparse file just over the default limit of 512 MiB costs no disk and is refused before it is read.
    const big = tmp.file('huge.json');
    const fh = await open(big, 'w');
    await fh.truncate(512 * 1024 * 1024 + 1);
    await fh.close();
    await assert.rejects(
      loadCassette(big),
      (err: unknown) => err instanceof CassetteError && /over the limit/.test(err.message) && err.message.includes(big),
    );
    await assert.rejects(
      startReplayer({ cassette: big }),
      (err: unknown) => err instanceof CassetteError && /over the limit/.test(err.message),
    );
    // A small explicit limit applies to an ordinary cassette too.
    const ok = tmp.file('ok.json');
    await writeFile(ok, goodText);
    await assert.rejects(
      loadCassette(ok, { maxBytes: 100 }),
      (err: unknown) => err instanceof CassetteError && /over the limit of 100 bytes/.test(err.message),
    );
  });

  // Found here: loadCassette once let readFile() errors (EISDIR for a folder) escape as plain Node errors.
  test('a folder given as the cassette: CassetteError naming it', async () => {
    const folder = tmp.file('a-folder.json');
    await mkdir(folder, { recursive: true });
    await assert.rejects(loadCassette(folder), (err: unknown) => {
      assert.ok(err instanceof CassetteError, `got ${String(err)}`);
      assert.ok(err.message.includes(folder));
      return true;
    });
    await assert.rejects(startReplayer({ cassette: folder }), (err: unknown) => err instanceof CassetteError);
  });

  test('an in-memory cassette object that is invalid: CassetteError from startReplayer', async () => {
    for (const bad of [null, 42, [], { version: 1 }, { ...good, events: [{ type: 'http' }] }]) {
      await assert.rejects(startReplayer({ cassette: bad as unknown as Cassette }), (err: unknown) => err instanceof CassetteError);
    }
  });

  test('a valid but pathological cassette (100 000 deep, 5 MB string, odd keys) loads; serving it works or fails cleanly', async () => {
    // Built as text: JSON.stringify itself cannot nest that deep.
    const DEPTH = 100_000;
    const deep = '['.repeat(DEPTH) + '"bottom"' + ']'.repeat(DEPTH);
    const c = structuredClone(good);
    const start = c.events.find((e) => e.type === 'http' && e.route === 'conversations.start')!;
    if (start.type !== 'http' || !start.response?.body || !('json' in start.response.body)) throw new Error('fixture changed');
    Object.assign(start.response.body.json as object, { deep: '@DEEP@', big: 'x'.repeat(5_000_000), constructor: 'c' });
    const text = stringifyCassette(c)
      .replace('"@DEEP@"', deep)
      .replace('"constructor":"c"', '"constructor":"c","__proto__":{"polluted":true}');
    const file = tmp.file('pathological.json');
    await writeFile(file, text);
    const loaded = await loadCassette(file);
    assert.equal(loaded.events.length, good.events.length);
    const r = await startReplayer({ cassette: file, speed: 0 });
    try {
      const gen = await call(r.domain, 'POST', '/tokens/generate', { bearer: 'x', body: { user: { id: 'dl_p' } } });
      assert.equal(gen.status, 200);
      const st = await call(r.domain, 'POST', '/conversations', { bearer: gen.json.token, body: {} });
      // A body too deep to substitute fails as a clear 5xx with an error body; the server keeps serving.
      assert.ok(
        st.status === 201 || (st.status >= 500 && typeof st.json?.error?.code === 'string'),
        `start → ${st.status} ${st.text.slice(0, 200)}`,
      );
      assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
      const again = await call(r.domain, 'POST', '/tokens/generate', { bearer: 'x', body: {} });
      assert.equal(again.status, 200, 'still serving');
    } finally {
      await r.close();
    }
  });

  test('after all that, a good cassette file still replays end to end', async () => {
    const file = tmp.file('good.json');
    await writeFile(file, goodText);
    const r = await startReplayer({ cassette: file, speed: 0 });
    try {
      const gen = await call(r.domain, 'POST', '/tokens/generate', { bearer: 'x', body: { user: { id: 'dl_g' } } });
      const st = await call(r.domain, 'POST', '/conversations', { bearer: gen.json.token, body: {} });
      const s = await Stream.open(st.json.streamUrl);
      await s.waitFor(() => s.count('Welcome') === 1, 'welcome');
      await s.close();
      assert.deepEqual(parseCassette(goodText, 'x'), validateCassette(good));
      assert.ok(WS_TEXTS.length > 0);
    } finally {
      await r.close();
    }
  });
});
