// Compressed upstreams: bodies sent gzip/br/deflate are stored decoded (readable JSON; redaction and
// streamUrl rewriting see it) and the client gets a body that matches its own Accept-Encoding; replay never
// sends a Content-Encoding. permessage-deflate is negotiated on each WebSocket leg on its own, frames stored
// decompressed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { startRecorder } from '../../src/record/recorder.js';
import { acceptsEncoding } from '../../src/record/http-exchange.js';
import { startReplayer } from '../../src/replay/index.js';
import { loadCassette } from '../../src/cassette/load.js';
import type { HttpEvent, WsMessageEvent } from '../../src/cassette/schema.js';
import type { Emulator } from '../emulator/index.js';
import { makeTestPki, rawRequest, startTlsEmulator, tryUpgrade, type TestPki } from './support.js';
import { eventually } from '../support/async.js';
import { tempDir } from '../support/fs.js';

let pki: TestPki;
let tmp: Awaited<ReturnType<typeof tempDir>>;
const emulators: Emulator[] = [];
before(async () => {
  pki = await makeTestPki();
  tmp = await tempDir();
});
after(async () => {
  await Promise.all(emulators.map((e) => e.close()));
  await tmp?.cleanup();
  await pki?.cleanup();
});

const DECODE = { gzip: gunzipSync, br: brotliDecompressSync, deflate: inflateSync } as const;

describe('compressed upstream bodies', () => {
  for (const coding of ['gzip', 'br', 'deflate'] as const) {
    it(`${coding}: the cassette holds JSON, each client gets what its Accept-Encoding takes`, async () => {
      const emu = await startTlsEmulator(pki, { compression: coding });
      emulators.push(emu);
      const file = tmp.file(`${coding}.json`);
      const rec = await startRecorder({ upstream: emu.domain, cassette: file, ca: pki.ca });
      try {
        const auth = { authorization: `Bearer ${emu.secret}` };
        // No Accept-Encoding (xhr2, curl): decoded JSON, no Content-Encoding, Content-Length of what is sent.
        const plain = await rawRequest(`${rec.domain}/conversations`, { method: 'POST', headers: auth });
        assert.equal(plain.status, 201);
        assert.equal(plain.headers['content-encoding'], undefined);
        assert.equal(Number(plain.headers['content-length']), plain.body.length);
        assert.match(plain.json.streamUrl, new RegExp(`^ws://127\\.0\\.0\\.1:${rec.port}/`), 'streamUrl rewritten on the decoded body');
        const cid = plain.json.conversationId;
        assert.equal(emu.requests.at(-1)?.responseEncoding, coding, `the upstream sent ${coding}`);

        // The client takes the coding and nothing is rewritten: the upstream's bytes as they came.
        const get = await rawRequest(`${rec.domain}/conversations/${cid}/activities`, {
          headers: { ...auth, 'accept-encoding': `${coding}, identity` },
        });
        assert.equal(get.status, 200);
        assert.equal(get.headers['content-encoding'], coding);
        assert.equal(Number(get.headers['content-length']), get.body.length);
        assert.ok(Array.isArray(JSON.parse(DECODE[coding](get.body).toString('utf8')).activities));

        // A start answer is rewritten, so even a client that takes the coding gets the decoded body.
        const again = await rawRequest(`${rec.domain}/conversations`, { method: 'POST', headers: { ...auth, 'accept-encoding': coding } });
        assert.equal(again.headers['content-encoding'], undefined);
        assert.ok(again.json.streamUrl.startsWith(`ws://127.0.0.1:${rec.port}/`));

        // A client that refuses this coding (q=0) gets it decoded.
        const refuse = await rawRequest(`${rec.domain}/conversations/${cid}/activities`, {
          headers: { ...auth, 'accept-encoding': `${coding};q=0, identity` },
        });
        assert.equal(refuse.headers['content-encoding'], undefined);
        assert.ok(Array.isArray(refuse.json.activities));
      } finally {
        await rec.close();
      }
      const cassette = await loadCassette(file);
      const http = cassette.events.filter((e): e is HttpEvent => e.type === 'http');
      assert.equal(http.length, 4);
      for (const e of http) {
        assert.ok(e.response?.body && 'json' in e.response.body, `${e.route}: stored as JSON`);
        assert.equal(e.response.headers['content-encoding'], undefined);
      }
      const start = http.find((e) => e.route === 'conversations.start')!;
      const stored = (start.response!.body as { json: any }).json;
      assert.match(stored.token, /^DLVCR_TOKEN_\d+$/, 'redaction worked on the decoded body');
      assert.match(stored.streamUrl, /[?&]t=DLVCR_STREAMTOKEN_\d+/);

      // Replay answers the same client with no Content-Encoding, whatever it accepts.
      const r = await startReplayer({ cassette: file, speed: 0 });
      try {
        const res = await rawRequest(`${r.domain}/conversations`, {
          method: 'POST',
          headers: { authorization: 'Bearer any', 'accept-encoding': 'gzip, deflate, br' },
        });
        assert.equal(res.status, 201);
        assert.equal(res.headers['content-encoding'], undefined);
        assert.equal(Number(res.headers['content-length']), res.body.length);
        assert.ok(res.json.conversationId);
      } finally {
        await r.close();
      }
    });
  }

  it('acceptsEncoding reads q-values, * and x-gzip', () => {
    assert.equal(acceptsEncoding(undefined, 'gzip'), false);
    assert.equal(acceptsEncoding(undefined, undefined), true);
    assert.equal(acceptsEncoding('', 'identity'), true);
    assert.equal(acceptsEncoding('gzip, deflate, br', 'br'), true);
    assert.equal(acceptsEncoding('gzip;q=0, *', 'gzip'), false);
    assert.equal(acceptsEncoding('*', 'br'), true);
    assert.equal(acceptsEncoding('*;q=0, gzip', 'br'), false);
    assert.equal(acceptsEncoding('x-gzip', 'gzip'), true);
    assert.equal(acceptsEncoding(['deflate', 'br;q=0.5'], 'br'), true);
  });
});

describe('permessage-deflate', () => {
  it('is negotiated on each leg on its own; frames are stored decompressed', async () => {
    const emu = await startTlsEmulator(pki, { compression: true });
    emulators.push(emu);
    const file = tmp.file('deflate.json');
    const rec = await startRecorder({ upstream: emu.domain, cassette: file, ca: pki.caFile });
    try {
      for (const clientDeflate of [true, false]) {
        const start = await rawRequest(`${rec.domain}/conversations`, {
          method: 'POST',
          headers: { authorization: `Bearer ${emu.secret}` },
        });
        assert.equal(start.status, 201);
        const up = await tryUpgrade(start.json.streamUrl, { perMessageDeflate: clientDeflate });
        assert.equal(up.status, 101);
        const ws = up.ws!;
        const first = await up.firstMessage!;
        assert.match(first, /Welcome to the emulator bot!/);
        if (clientDeflate) assert.match(up.extensions ?? '', /^permessage-deflate/, 'client leg: deflate when the client offers it');
        else assert.equal(up.extensions, '', 'client leg: none when the client does not offer it');
        const upgrade = await eventually(
          () =>
            emu.requests.filter((r) => r.headers.upgrade).at(-1)?.wsExtensions !== undefined &&
            emu.requests.filter((r) => r.headers.upgrade).at(-1),
          'the upstream upgrade',
        );
        assert.match(String(upgrade.headers['sec-websocket-extensions']), /permessage-deflate/, 'the recorder offers deflate upstream');
        assert.match(upgrade.wsExtensions ?? '', /^permessage-deflate/, 'upstream leg: deflate either way');
        ws.close();
      }
    } finally {
      await rec.close();
    }
    const frames = (await loadCassette(file)).events.filter((e): e is WsMessageEvent => e.type === 'ws.message' && e.from === 'server');
    assert.ok(frames.length >= 2);
    for (const f of frames)
      assert.ok('json' in f.data && JSON.stringify(f.data.json).includes('Welcome to the emulator bot!'), 'a decompressed JSON frame');
  });
});
