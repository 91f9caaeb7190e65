// Web Chat 4.18.1 in headless Chromium through the TLS listeners. (a) A page on another origin
// (http://127.0.0.1:PAGE, a "public" page) records through the recorder's https:// listener — with
// --allow-origin naming that page — against the https:// + wss:// emulator that compresses (br bodies,
// permessage-deflate); (b) with the emulator stopped, the replay server's demo page over https:// + wss://
// replays it. Chromium trusts the test certificates through `ignoreHTTPSErrors: true` on its browser
// context (this test only; nothing is installed into a certificate store).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { loadCassette } from '../../src/cassette/load.js';
import type { HttpEvent, WsMessageEvent } from '../../src/cassette/schema.js';
import { startRecorder } from '../../src/record/recorder.js';
import { startReplayer } from '../../src/replay/index.js';
import type { Emulator } from '../emulator/index.js';
import { botBubble, collectErrors, launchChromium, sendAsPerson, userBubble, waitAllSent } from '../browser/support.js';
import { makeTestPki, startTlsEmulator, type TestPki } from './support.js';
import { tempDir } from '../support/fs.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const WELCOME = 'Welcome to the emulator bot!';
const TEXT = 'Hello over TLS';

let browser: Browser;
let pki: TestPki;
let emu: Emulator;
let tmp: Awaited<ReturnType<typeof tempDir>>;
let pageServer: Server;
let pageOrigin = '';
let recordedCassette: string | undefined;
/** The cross-origin page's HTML, set per test: Web Chat pointed at `domain`. */
let pageHtml = '';

before(async () => {
  [browser, pki, tmp] = await Promise.all([launchChromium(), makeTestPki(), tempDir()]);
  emu = await startTlsEmulator(pki, { compression: true });
  pageServer = createServer((req, res) => {
    if (req.url !== '/') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(pageHtml);
  });
  await new Promise<void>((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
  pageOrigin = `http://127.0.0.1:${(pageServer.address() as AddressInfo).port}`;
});

after(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (pageServer ? pageServer.close(() => resolve()) : resolve()));
  await emu?.close();
  await tmp?.cleanup();
  await pki?.cleanup();
});

/** A page like any web app's: Web Chat from a script URL, Direct Line at another origin. */
function crossOriginPage(scriptUrl: string, domain: string, secret: string): string {
  const config = JSON.stringify({ domain, secret }).replace(/</g, '\\u003c');
  return `<!doctype html><html><head><meta charset="utf-8"><title>public page</title>
<style>html,body,#webchat{height:100%;margin:0}</style></head><body><div id="webchat"></div>
<script src="${scriptUrl}"></script>
<script>
  var config = ${config};
  var directLine = window.WebChat.createDirectLine({ domain: config.domain, secret: config.secret, webSocket: true });
  var store = window.WebChat.createStore();
  window.directLineVcr = { domain: config.domain, directLine: directLine, store: store };
  window.WebChat.renderWebChat({ directLine: directLine, store: store, locale: 'en-US', sendTypingIndicator: false }, \
document.getElementById('webchat'));
</script></body></html>`;
}

async function newContext(): Promise<BrowserContext> {
  // The test CA is not in Chromium's store: accept the test certificates for this context only.
  return browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 760, height: 620 } });
}

async function converse(page: Page, errors: string[]): Promise<void> {
  const why = () => (errors.length ? `\nbrowser errors:\n${errors.join('\n')}` : '');
  await botBubble(page, WELCOME)
    .waitFor({ timeout: 10_000 })
    .catch((err: Error) => assert.fail(`no welcome bubble: ${err.message}${why()}`));
  await sendAsPerson(page, TEXT);
  await botBubble(page, `You said: ${TEXT}`)
    .waitFor({ timeout: 10_000 })
    .catch((err: Error) => assert.fail(`no reply: ${err.message}${why()}`));
  assert.equal(await userBubble(page, TEXT).count(), 1);
  const acts = await waitAllSent(page);
  assert.deepEqual(
    acts.filter((a) => a.type === 'message').map((a) => `${a.role}: ${a.text}`),
    [`bot: ${WELCOME}`, `user: ${TEXT}`, `bot: You said: ${TEXT}`],
  );
}

describe('Web Chat in Chromium over TLS', () => {
  it('(a) records from a page on another origin through the https:// recorder to the https:// + compressing emulator', {
    timeout: 30_000,
  }, async () => {
    const file = tmp.file('webchat-tls.json');
    const rec = await startRecorder({
      upstream: emu.domain,
      cassette: file,
      ca: pki.caFile,
      host: 'localhost',
      demoPage: true,
      tls: { cert: pki.localhost.chain, key: pki.localhost.key },
      allowOrigin: [pageOrigin],
    });
    const context = await newContext();
    const sockets: string[] = [];
    try {
      assert.match(rec.domain, /^https:\/\/localhost:\d+\/v3\/directline$/);
      pageHtml = crossOriginPage(`${rec.url}/webchat.js`, rec.domain, emu.secret);
      const page = await context.newPage();
      const errors = collectErrors(page);
      page.on('websocket', (ws) => sockets.push(ws.url()));
      await page.goto(`${pageOrigin}/`);
      await converse(page, errors);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: `${ARTIFACTS}webchat-tls-record.png` });
      assert.ok(
        sockets.some((u) => u.startsWith(`wss://localhost:${rec.port}/v3/directline/conversations/`)),
        `Web Chat streamed over wss:// from the recorder: ${sockets.join(', ')}`,
      );
    } finally {
      await context.close();
      await rec.close();
    }
    assert.ok(
      emu.requests.some((r) => r.method === 'POST' && r.responseEncoding === 'br'),
      'the emulator answered br',
    );
    assert.match(emu.requests.find((r) => r.headers.upgrade)?.wsExtensions ?? '', /permessage-deflate/);
    assert.ok(!emu.requests.some((r) => r.method === 'OPTIONS'), 'preflights were answered by the recorder');
    await emu.close();

    const cassette = await loadCassette(file);
    const posts = cassette.events.filter((e): e is HttpEvent => e.type === 'http' && e.route === 'activities.post');
    assert.equal(posts.length, 1);
    assert.equal((posts[0]!.request.body as { json: any }).json.text, TEXT);
    assert.equal(posts[0]!.request.headers.origin, pageOrigin);
    const frames = cassette.events.filter((e): e is WsMessageEvent => e.type === 'ws.message' && e.from === 'server');
    assert.ok(
      frames.some((f) => 'json' in f.data && JSON.stringify(f.data.json).includes(`You said: ${TEXT}`)),
      'decoded frames',
    );
    recordedCassette = file;
  });

  it("(b) replays it offline on the replay server's demo page over https:// + wss://", { timeout: 30_000 }, async () => {
    assert.ok(recordedCassette, 'needs the cassette of (a)');
    const r = await startReplayer({
      cassette: recordedCassette,
      speed: 1,
      demoPage: true,
      host: 'localhost',
      tls: { cert: pki.localhost.chainFile, key: pki.localhost.keyFile },
    });
    const context = await newContext();
    const sockets: string[] = [];
    try {
      assert.ok(r.demoPageUrl?.startsWith('https://localhost:'));
      const page = await context.newPage();
      const errors = collectErrors(page);
      page.on('websocket', (ws) => sockets.push(ws.url()));
      await page.goto(r.demoPageUrl!);
      await converse(page, errors);
      await page.screenshot({ path: `${ARTIFACTS}webchat-tls-replay.png` });
      assert.ok(
        sockets.some((u) => u.startsWith(`wss://localhost:${r.port}/`)),
        `replayed over wss://: ${sockets.join(', ')}`,
      );
    } finally {
      await context.close();
      await r.close();
    }
    const s = r.summary();
    assert.equal(s.unmatched, 0, JSON.stringify(s.unmatchedRequests, null, 2));
    assert.equal(s.conversations, 1);
  });
});
