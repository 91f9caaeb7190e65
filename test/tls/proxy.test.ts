// The upstream leg behind an outbound (corporate) proxy: `proxy` and HTTPS_PROXY send HTTP requests and the
// WebSocket through CONNECT tunnels of a local test proxy (counted), NO_PROXY bypasses it, a refusing or
// unreachable proxy gives a 502 that names it, and a plain-http upstream goes through it too.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { startRecorder, type RecordOptions } from '../../src/record/recorder.js';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { startConnectProxy, type TestProxy } from './connect-proxy.js';
import { loadCassette } from '../../src/cassette/load.js';
import type { HttpEvent, WsOpenEvent } from '../../src/cassette/schema.js';
import { collectingLogger, makeTestPki, rawRequest, startTlsEmulator, tryUpgrade, type TestPki } from './support.js';
import { tempDir } from '../support/fs.js';

let pki: TestPki;
let emu: Emulator;
let proxy: TestProxy;
const PROXY_VARS = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy', 'NO_PROXY', 'no_proxy'];
const savedEnv = Object.fromEntries(PROXY_VARS.map((k) => [k, process.env[k]]));

function setEnv(vars: Record<string, string>): void {
  for (const k of PROXY_VARS) delete process.env[k];
  Object.assign(process.env, vars);
}

before(async () => {
  pki = await makeTestPki();
  emu = await startTlsEmulator(pki);
  proxy = await startConnectProxy();
});
afterEach(() => {
  setEnv({});
  proxy.refuseWith = null;
});
after(async () => {
  for (const [k, v] of Object.entries(savedEnv))
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  await proxy?.close();
  await emu?.close();
  await pki?.cleanup();
});

/** Start → stream → first frame through a recorder; returns how many tunnels each step opened. */
async function conversation(opts: Partial<RecordOptions>, upstream: Emulator = emu): Promise<{ http: number; ws: number; lines: any[] }> {
  const log = collectingLogger();
  const rec = await startRecorder({ upstream: upstream.domain, ca: pki.caFile, logger: log.logger, ...opts });
  try {
    const t0 = proxy.tunnels.length;
    const start = await rawRequest(`${rec.domain}/conversations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${upstream.secret}` },
    });
    assert.equal(start.status, 201, start.text);
    const t1 = proxy.tunnels.length;
    const up = await tryUpgrade(start.json.streamUrl);
    assert.equal(up.status, 101, JSON.stringify(up.body));
    const frame = await up.firstMessage!;
    assert.match(frame, /Welcome to the emulator bot!/);
    up.ws!.close();
    return { http: t1 - t0, ws: proxy.tunnels.length - t1, lines: log.lines() };
  } finally {
    await rec.close();
  }
}

const emuHost = () => new URL(emu.url).host;

describe('outbound proxy', () => {
  it('proxy: HTTP requests and the WebSocket go through CONNECT tunnels to the upstream', async () => {
    const n = await conversation({ proxy: proxy.url });
    assert.equal(n.http, 1, 'one tunnel for the HTTP request (kept alive for the next ones)');
    assert.equal(n.ws, 1, 'one tunnel for the WebSocket');
    assert.deepEqual([...new Set(proxy.tunnels.map((t) => t.target))], [emuHost()]);
    assert.ok(
      emu.requests.slice(-2).every((r) => r.servername === 'localhost'),
      'TLS inside the tunnel still uses the upstream name',
    );
    assert.ok(
      n.lines.some((l) => l.proxy === proxy.url && /outbound proxy/.test(l.msg)),
      'the start log names the proxy',
    );
  });

  it('HTTPS_PROXY from the environment does the same; NO_PROXY bypasses it', async () => {
    setEnv({ HTTPS_PROXY: proxy.url });
    const viaEnv = await conversation({});
    assert.equal(viaEnv.http, 1);
    assert.equal(viaEnv.ws, 1);

    setEnv({ https_proxy: proxy.url, NO_PROXY: 'example.invalid,localhost' });
    const bypassed = await conversation({});
    assert.equal(bypassed.http + bypassed.ws, 0, 'NO_PROXY: no tunnel');

    // --proxy wins over the environment, NO_PROXY included; proxy: false ignores HTTPS_PROXY.
    const explicit = await conversation({ proxy: proxy.url });
    assert.equal(explicit.http + explicit.ws, 2);
    setEnv({ HTTPS_PROXY: proxy.url });
    const disabled = await conversation({ proxy: false });
    assert.equal(disabled.http + disabled.ws, 0, 'proxy: false');
  });

  it("a proxy refusing the tunnel: 502 naming proxy and answer, for requests and upgrades; none of it recorded as upstream's", async () => {
    proxy.refuseWith = 407;
    const log = collectingLogger();
    const tmp = await tempDir();
    const file = tmp.file('refused.json');
    const rec = await startRecorder({ upstream: emu.domain, ca: pki.caFile, proxy: proxy.url, logger: log.logger, cassette: file });
    try {
      const res = await rawRequest(`${rec.domain}/conversations`, { method: 'POST', headers: { authorization: `Bearer ${emu.secret}` } });
      assert.equal(res.status, 502);
      assert.equal(res.json.error.code, 'UpstreamUnreachable');
      assert.match(
        res.json.error.message,
        new RegExp(`through the outbound proxy ${proxy.url.replace(/\./g, '\\.')} .*407 Refused to CONNECT ${emuHost()}`),
      );
      const ws = await tryUpgrade(`ws://127.0.0.1:${rec.port}/v3/directline/conversations/abc/stream?t=x`);
      assert.equal(ws.status, 502);
      assert.match(ws.body.error.message, /407 Refused to CONNECT/);
    } finally {
      await rec.close();
    }
    const events = (await loadCassette(file)).events;
    const http = events.find((e): e is HttpEvent => e.type === 'http')!;
    assert.equal(http.response, null, "the proxy's 407 is not recorded as the upstream's answer");
    assert.equal(http.error?.code, 'PROXY_TUNNEL_REFUSED');
    const open = events.find((e): e is WsOpenEvent => e.type === 'ws.open')!;
    assert.equal(open.status, 502);
    assert.ok(
      log.lines().some((l) => l.level === 50 && l.proxy === proxy.url),
      'logged with the proxy',
    );
    await tmp.cleanup();
  });

  it('an unreachable proxy: 502 that says the proxy could not be reached', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const rec = await startRecorder({ upstream: emu.domain, ca: pki.caFile, proxy: `http://127.0.0.1:${port}` });
    try {
      const res = await rawRequest(`${rec.domain}/conversations`, { method: 'POST', headers: { authorization: `Bearer ${emu.secret}` } });
      assert.equal(res.status, 502);
      assert.match(
        res.json.error.message,
        new RegExp(`through the outbound proxy http://127\\.0\\.0\\.1:${port} \\(--proxy\\): ECONNREFUSED`),
      );
    } finally {
      await rec.close();
    }
  });

  it('proxy credentials go in Proxy-Authorization and never into the logs', async () => {
    const withCreds = proxy.url.replace('http://', 'http://corp-user:s3cret-pass@');
    const n = await conversation({ proxy: withCreds });
    assert.equal(n.http + n.ws, 2);
    assert.equal(proxy.tunnels.at(-1)?.authorization, `Basic ${Buffer.from('corp-user:s3cret-pass').toString('base64')}`);
    assert.ok(!JSON.stringify(n.lines).includes('s3cret-pass'), 'the password is not logged');
  });

  it('a plain-http upstream: requests in absolute form through the proxy, the WebSocket through a tunnel', async () => {
    const plain = await startEmulator({});
    try {
      const forwarded = proxy.forwarded.length;
      const n = await conversation({ proxy: proxy.url }, plain);
      assert.equal(n.http, 0, 'no tunnel for plain HTTP');
      assert.equal(proxy.forwarded.length - forwarded, 1);
      assert.match(proxy.forwarded.at(-1)!, new RegExp(`^POST ${plain.url.replace(/\./g, '\\.')}/v3/directline/conversations$`));
      assert.equal(n.ws, 1, 'the WebSocket went through CONNECT');
      assert.equal(proxy.tunnels.at(-1)?.target, new URL(plain.url).host);
    } finally {
      await plain.close();
    }
  });
});
