// The demo page over plain HTTP (no browser): what / and /webchat.js answer, escaping, the "not installed"
// page, and the recorder mounting it without changing its Direct Line behaviour.
import type { RouteName } from '../../src/protocol/routes.js';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import type { Cassette } from '../../src/cassette/schema.js';
import { startRecorder } from '../../src/record/recorder.js';
import {
  createDemoPage,
  DEMO_TOKEN,
  findWebChatBundle,
  recordedUserMessages,
  replayDemoPageOptions,
  WEBCHAT_INSTALL_COMMAND,
  type DemoPageOptions,
} from '../../src/web/index.js';
import { startEmulator } from '../emulator/index.js';

const closers: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of closers.reverse()) await c();
});

/** A server that answers with the page handler and 418 for whatever it declines. */
async function serve(opts: DemoPageOptions): Promise<string> {
  const page = createDemoPage(opts);
  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    if (page(req, res)) return;
    res.writeHead(418);
    res.end('declined');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function captureLogger() {
  const lines: Array<{ level: number; msg: string }> = [];
  const logger = pino(
    { level: 'info' },
    {
      write: (s: string) => {
        lines.push(JSON.parse(s));
      },
    },
  );
  return { logger, lines };
}

const configOf = (html: string): any => JSON.parse(/<script type="application\/json" id="dlvcr-config">(.*?)<\/script>/s.exec(html)![1]!);

describe('demo page', () => {
  it('finds the installed Web Chat bundle', () => {
    const bundle = findWebChatBundle();
    assert.ok(bundle, `botframework-webchat should be installed (devDependency): ${WEBCHAT_INSTALL_COMMAND}`);
    assert.match(bundle.file, /botframework-webchat[\\/]dist[\\/]webchat\.js$/);
    assert.equal(bundle.version, '4.18.1');
    assert.equal(findWebChatBundle('file:///nonexistent/dir/x.js'), null, 'null where it cannot be resolved');
  });

  it('serves the page and the bundle; declines everything else', async () => {
    const url = await serve({ basePath: '/v3/directline/', title: 'recordings/demo.json', credentials: { token: DEMO_TOKEN } });
    const page = await fetch(`${url}/?token=x`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(page.headers.get('cache-control'), 'no-store');
    const html = await page.text();
    assert.match(html, /<script src="\.\/webchat\.js"><\/script>/);
    assert.match(html, /Replaying cassette <code>demo\.json<\/code>/);
    assert.deepEqual(configOf(html), { mode: 'replay', basePath: '/v3/directline', credentials: { token: DEMO_TOKEN } });
    assert.equal((await fetch(`${url}/index.html`)).status, 200);

    const bundle = findWebChatBundle()!;
    const js = await fetch(`${url}/webchat.js`);
    assert.equal(js.status, 200);
    assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(Number(js.headers.get('content-length')), statSync(bundle.file).size);
    assert.equal((await js.arrayBuffer()).byteLength, statSync(bundle.file).size);
    const again = await fetch(`${url}/webchat.js`, { headers: { 'if-none-match': js.headers.get('etag')! } });
    assert.equal(again.status, 304);
    const head = await fetch(`${url}/webchat.js`, { method: 'HEAD' });
    assert.equal(head.status, 200);

    assert.equal((await fetch(`${url}/favicon.ico`)).status, 204);
    for (const [method, path] of [
      ['POST', '/'],
      ['GET', '/v3/directline/conversations'],
      ['GET', '/other'],
      ['OPTIONS', '/'],
    ] as const) {
      assert.equal((await fetch(`${url}${path}`, { method })).status, 418, `${method} ${path} is not the page's`);
    }
  });

  it('escapes the cassette name and the note; the boot config cannot close its script tag', async () => {
    const evil = '</script><script>alert(1)</script>&"\'.json';
    const url = await serve({
      basePath: '/v3/directline',
      title: evil,
      note: `<img src=x onerror=alert(2)> ${evil}`,
      credentials: { token: '</script>\u2028' },
    });
    const html = await (await fetch(`${url}/`)).text();
    assert.ok(!html.includes('<script>alert(1)'), 'title not interpolated raw');
    assert.ok(!html.includes('<img src=x'), 'note not interpolated raw');
    assert.match(html, /&lt;\/script&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt;&amp;&quot;&#39;\.json/);
    assert.equal(html.match(/<\/script>/g)!.length, 3, 'only the three script elements of the page close');
    assert.deepEqual(configOf(html).credentials, { token: '</script>\u2028' });
  });

  it('record mode asks for credentials in the browser and bakes none into the page', async () => {
    const url = await serve({ basePath: '/v3/directline', title: 'x.json', credentials: 'ask' });
    const html = await (await fetch(`${url}/`)).text();
    assert.deepEqual(configOf(html), { mode: 'record', basePath: '/v3/directline', credentials: 'ask' });
    assert.match(html, /<form id="dlvcr-credentials"/);
    assert.match(html, /Recording this conversation to <code>x\.json<\/code>/);
  });

  it('without Web Chat: 200 with what to install, logged once', async () => {
    const { logger, lines } = captureLogger();
    const url = await serve({ basePath: '/v3/directline', title: 'demo.json', credentials: { token: DEMO_TOKEN }, logger, bundle: null });
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${url}/`);
      assert.equal(res.status, 200);
      const html = await res.text();
      assert.ok(html.includes(WEBCHAT_INSTALL_COMMAND), html);
      assert.match(html, /Web Chat is not installed/);
      assert.ok(html.includes(`${url}/v3/directline`), 'tells where the Direct Line endpoint is');
      assert.ok(!html.includes('webchat.js'), 'does not load the missing bundle');
    }
    const js = await fetch(`${url}/webchat.js`);
    assert.equal(js.status, 404);
    assert.ok((await js.text()).includes(WEBCHAT_INSTALL_COMMAND));
    const warnings = lines.filter((l) => l.msg.includes('botframework-webchat is not installed'));
    assert.equal(warnings.length, 1, JSON.stringify(lines));
    assert.equal(warnings[0]!.level, 40);
    assert.ok(warnings[0]!.msg.includes(WEBCHAT_INSTALL_COMMAND));
  });

  it('replayDemoPageOptions: token or generate from how the first conversation began, and the messages to type', () => {
    const http = (route: RouteName, conversationId: string | null, body: unknown = null) => ({
      type: 'http' as const,
      t: 0,
      conversationId,
      route,
      duration: 1,
      request: { method: 'POST', path: '/x', query: {}, headers: {}, body: body === null ? null : { json: body } },
      response: { status: 200, headers: {}, body: null },
    });
    const base: Omit<Cassette, 'events'> = {
      version: 1,
      tool: { name: 'directline-vcr', version: '0' },
      createdAt: '2026-01-01T00:00:00Z',
      upstream: { origin: 'https://directline.botframework.com', basePath: '/v3/directline' },
      redaction: { placeholders: {} },
    };
    const started: Cassette = {
      ...base,
      events: [
        http('conversations.start', 'c1'),
        http('activities.post', 'c1', { type: 'message', text: 'hi' }),
        http('activities.post', 'c1', { type: 'typing' }),
        http('activities.post', 'c1', { type: 'message', text: 'bye' }),
        http('activities.post', 'c2', { type: 'message', text: 'other conversation' }),
      ],
    };
    assert.deepEqual(recordedUserMessages(started), ['hi', 'bye']);
    const o = replayDemoPageOptions(started, '/tmp/rec/demo.json');
    assert.deepEqual(o.credentials, { token: DEMO_TOKEN });
    assert.equal(o.basePath, '/v3/directline');
    assert.equal(o.title, '/tmp/rec/demo.json');
    assert.equal(o.note, 'Send the recorded messages in order: “hi” · “bye”');
    const generated: Cassette = { ...base, events: [http('tokens.generate', null), http('conversations.start', 'c1')] };
    assert.equal(replayDemoPageOptions(generated).credentials, 'generate');
    assert.equal(replayDemoPageOptions(generated).note, null);
  });

  it('the recorder mounts the page only when asked, and still proxies Direct Line', async () => {
    const emulator = await startEmulator({});
    closers.push(() => emulator.close());
    const plain = await startRecorder({ upstream: emulator.domain });
    closers.push(() => plain.close());
    assert.equal(plain.demoPageUrl, null);
    assert.equal((await fetch(`${plain.url}/`)).status, 404, 'unchanged without demoPage');

    const withPage = await startRecorder({ upstream: emulator.domain, demoPage: true });
    closers.push(() => withPage.close());
    assert.equal(withPage.demoPageUrl, `${withPage.url}/`);
    const html = await (await fetch(withPage.demoPageUrl!)).text();
    assert.deepEqual(configOf(html), { mode: 'record', basePath: '/v3/directline', credentials: 'ask' });
    const start = await fetch(`${withPage.domain}/conversations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${emulator.secret}` },
    });
    assert.equal(start.status, 201);
    assert.match(((await start.json()) as { streamUrl: string }).streamUrl, new RegExp(`^ws://127\\.0\\.0\\.1:${withPage.port}/`));
  });
});
