// botframework-directlinejs records through the recorder against the emulator over https:// + wss:// with
// compression (gzip bodies, permessage-deflate frames), the recorder trusting the test CA through `ca`; then,
// with the emulator stopped, the same client replays the cassette over a plain listener and over TLS.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { startRecorder } from '../../src/record/recorder.js';
import { startReplayer } from '../../src/replay/index.js';
import { loadCassette } from '../../src/cassette/load.js';
import type { Cassette, HttpEvent, WsMessageEvent } from '../../src/cassette/schema.js';
import type { Emulator } from '../emulator/index.js';
import { activitiesOf, createDirectLine, endDirectLine, postAndWait, waitForActivities } from '../support/directline-client.js';
import { collectingLogger, installNodeTrust, makeTestPki, openedWebSockets, startTlsEmulator, type TestPki } from './support.js';
import { eventually } from '../support/async.js';
import { tempDir } from '../support/fs.js';

type Mode = 'websocket' | 'polling';
const WELCOME = 'Welcome to the emulator bot!';
const msg = (text: string) => ({ type: 'message', text, from: { id: 'user-1' } }) as any;

let pki: TestPki;
let emu: Emulator;
let tmp: Awaited<ReturnType<typeof tempDir>>;
const cassettes: Partial<Record<Mode, string>> = {};

before(async () => {
  pki = await makeTestPki();
  tmp = await tempDir();
  installNodeTrust(pki.ca);
  emu = await startTlsEmulator(pki, { compression: 'gzip' });
});

after(async () => {
  await emu?.close();
  await tmp?.cleanup();
  await pki?.cleanup();
});

/** Welcome, hello → reply; returns the texts seen (typing excluded). */
async function converse(domain: string, mode: Mode, auth: { secret?: string; token?: string }): Promise<string[]> {
  const dl = createDirectLine({ domain, ...auth, webSocket: mode === 'websocket', pollingInterval: 200 });
  try {
    await waitForActivities(dl, (a) => a.some((x) => x.text === WELCOME), 8000);
    const id = await postAndWait(dl, msg('hello'));
    assert.notEqual(id, 'retry', 'the send went through');
    await waitForActivities(dl, (a) => a.some((x) => x.text === 'You said: hello'), 8000);
    return activitiesOf(dl)
      .filter((a) => a.type === 'message')
      .map((a) => a.text);
  } finally {
    endDirectLine(dl);
  }
}

const EXPECTED = [WELCOME, 'hello', 'You said: hello'];

describe('botframework-directlinejs through the recorder to an https:// + wss:// upstream with compression', () => {
  for (const mode of ['websocket', 'polling'] as const) {
    // WebSocket mode also talks to the recorder over TLS (https:// domain, wss:// stream); polling over plain http.
    const listener = mode === 'websocket' ? 'tls' : 'plain';
    it(`records (${mode}, recorder listening ${listener === 'tls' ? 'on https://' : 'on http://'}): readable JSON in the cassette`, {
      timeout: 20_000,
    }, async () => {
      const file = tmp.file(`${mode}.json`);
      const log = collectingLogger();
      const before = emu.requests.length;
      const rec = await startRecorder({
        upstream: emu.domain,
        cassette: file,
        ca: pki.caFile,
        logger: log.logger,
        host: 'localhost',
        ...(listener === 'tls' ? { tls: { cert: pki.localhost.chainFile, key: pki.localhost.keyFile } } : {}),
      });
      try {
        assert.match(
          rec.domain,
          listener === 'tls' ? /^https:\/\/localhost:\d+\/v3\/directline$/ : /^http:\/\/localhost:\d+\/v3\/directline$/,
        );
        const wsBefore = openedWebSockets.length;
        assert.deepEqual(await converse(rec.domain, mode, { secret: emu.secret }), EXPECTED);
        if (mode === 'websocket') {
          const url = openedWebSockets.slice(wsBefore).find((u) => u.includes('/stream'));
          assert.ok(
            url?.startsWith(`wss://localhost:${rec.port}/v3/directline/conversations/`),
            `the client got a wss:// streamUrl on the recorder: ${url}`,
          );
          await eventually(() => emu.requests.slice(before).some((r) => r.headers.upgrade), 'the relayed upgrade');
        }
      } finally {
        await rec.close();
      }
      const upstream = emu.requests.slice(before);
      // The recorder asked for compression and the emulator used it; TLS went to the upstream's name.
      assert.ok(
        upstream.every((r) => r.servername === 'localhost'),
        'SNI is the upstream host name',
      );
      assert.ok(
        upstream.every((r) => r.headers.host === new URL(emu.url).host),
        'so is Host',
      );
      assert.ok(
        upstream.some((r) => r.responseEncoding === 'gzip'),
        'the emulator answered gzip',
      );
      if (mode === 'websocket') assert.match(upstream.find((r) => r.headers.upgrade)?.wsExtensions ?? '', /permessage-deflate/);

      const text = await readFile(file, 'utf8');
      assert.ok(text.includes('"You said: hello"'), 'bot replies are readable text in the cassette');
      assert.ok(!text.includes(emu.secret), 'the secret is redacted');
      const cassette: Cassette = await loadCassette(file);
      assert.equal(cassette.upstream.origin, emu.url);
      const start = cassette.events.find((e): e is HttpEvent => e.type === 'http' && e.route === 'conversations.start')!;
      assert.ok(start.response?.body && 'json' in start.response.body, 'the gzip body is stored as JSON');
      assert.match(
        (start.response.body as { json: any }).json.streamUrl,
        /^wss:\/\/localhost:\d+\/v3\/directline\/conversations\//,
        "the recorded streamUrl is the upstream's",
      );
      assert.ok(!('content-encoding' in start.response.headers), 'no Content-Encoding stored with the decoded body');
      if (mode === 'websocket') {
        const frames = cassette.events.filter((e): e is WsMessageEvent => e.type === 'ws.message' && e.from === 'server');
        assert.ok(
          frames.some((f) => 'json' in f.data && JSON.stringify(f.data.json).includes('You said: hello')),
          'deflated frames are stored decompressed',
        );
      } else {
        const polls = cassette.events.filter((e): e is HttpEvent => e.type === 'http' && e.route === 'activities.get');
        assert.ok(polls.length > 0 && polls.every((p) => p.response?.body && 'json' in p.response.body));
      }
      cassettes[mode] = file;
    });
  }

  for (const mode of ['websocket', 'polling'] as const) {
    for (const listener of ['plain', 'tls'] as const) {
      const over = listener === 'tls' ? 'a TLS listener (https://, wss://)' : 'a plain listener (http://, ws://)';
      it(`replays the ${mode} cassette offline to the same client over ${over}`, {
        timeout: 20_000,
      }, async () => {
        const file = cassettes[mode];
        assert.ok(file, 'needs the recording above');
        await emu.close(); // offline from here on (idempotent)
        const r = await startReplayer({
          cassette: file,
          speed: 0,
          host: 'localhost',
          ...(listener === 'tls' ? { tls: { cert: pki.localhost.chain, key: pki.localhost.key } } : {}),
        });
        try {
          assert.match(r.domain, listener === 'tls' ? /^https:\/\/localhost:/ : /^http:\/\/localhost:/);
          const wsBefore = openedWebSockets.length;
          assert.deepEqual(await converse(r.domain, mode, { token: 'any' }), EXPECTED);
          if (mode === 'websocket') {
            const url = openedWebSockets.slice(wsBefore).find((u) => u.includes('/stream'));
            assert.ok(url?.startsWith(`${listener === 'tls' ? 'wss' : 'ws'}://localhost:${r.port}/`), `streamUrl on the replayer: ${url}`);
          }
          const s = r.summary();
          assert.equal(s.unmatched, 0, JSON.stringify(s.unmatchedRequests));
          assert.equal(s.conversations, 1);
        } finally {
          await r.close();
        }
      });
    }
  }
});
