// Certificates the recorder must not trust: the client gets a 502 with a Direct Line-shaped body naming the
// TLS problem and how to trust the CA (HTTP requests and WebSocket handshakes alike), the log says the same;
// `insecure` works and warns at every start; NODE_EXTRA_CA_CERTS is honoured (CLI process).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startRecorder, type RecordOptions } from '../../src/record/recorder.js';
import { loadCassette } from '../../src/cassette/load.js';
import type { HttpEvent, WsOpenEvent } from '../../src/cassette/schema.js';
import type { Emulator } from '../emulator/index.js';
import type { Leaf } from './pki.js';
import { collectingLogger, makeTestPki, rawRequest, startTlsEmulator, tryUpgrade, type TestPki } from './support.js';
import { tempDir } from '../support/fs.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
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

async function emulatorWith(leaf: Leaf): Promise<Emulator> {
  const emu = await startTlsEmulator(pki, { leaf });
  emulators.push(emu);
  return emu;
}

const TRUST_HINT = /--ca <file\.pem> or set NODE_EXTRA_CA_CERTS=<file\.pem>/;

/** Starts a recorder, runs `fn`, stops it; returns the log lines. */
async function withRecorder(opts: Partial<RecordOptions> & { upstream: string }, fn: (domain: string) => Promise<void>): Promise<any[]> {
  const log = collectingLogger();
  const rec = await startRecorder({ logger: log.logger, ...opts });
  try {
    await fn(rec.domain);
  } finally {
    await rec.close();
  }
  return log.lines();
}

describe('upstream certificates the recorder does not trust', () => {
  it('an unknown CA: 502 naming "self-signed certificate in certificate chain" and how to trust the CA; recorded as an error', async () => {
    const emu = await emulatorWith(pki.localhost);
    const file = tmp.file('untrusted.json');
    let body: any;
    const lines = await withRecorder({ upstream: emu.domain, cassette: file }, async (domain) => {
      const res = await rawRequest(`${domain}/conversations`, { method: 'POST', headers: { authorization: `Bearer ${emu.secret}` } });
      assert.equal(res.status, 502);
      assert.match(String(res.headers['content-type']), /^application\/json/);
      body = res.json;
    });
    assert.equal(body.error.code, 'UpstreamTlsError');
    assert.match(body.error.message, /self-signed certificate in certificate chain \(SELF_SIGNED_CERT_IN_CHAIN\)/);
    assert.match(body.error.message, new RegExp(`to the upstream ${emu.url.replace(/[.]/g, '\\.')}`));
    assert.match(body.error.message, TRUST_HINT);
    const logged = lines.find((l) => l.level === 50 && l.code === 'SELF_SIGNED_CERT_IN_CHAIN');
    assert.ok(logged, 'the log has the error');
    assert.equal(logged.msg, body.error.message, 'the log says the same as the client gets');
    assert.equal(emu.requests.length, 0, 'nothing reached the upstream');
    const ev = (await loadCassette(file)).events.find((e): e is HttpEvent => e.type === 'http')!;
    assert.equal(ev.response, null);
    assert.equal(ev.error?.code, 'SELF_SIGNED_CERT_IN_CHAIN');
  });

  it("a refused WSS handshake reaches the client's upgrade as the same 502 body", async () => {
    const emu = await emulatorWith(pki.localhost);
    const file = tmp.file('untrusted-ws.json');
    await withRecorder({ upstream: emu.domain, cassette: file }, async (domain) => {
      const res = await tryUpgrade(`${domain.replace(/^http/, 'ws')}/conversations/abc/stream?watermark=-&t=x`);
      assert.equal(res.status, 502);
      assert.equal(res.body.error.code, 'UpstreamTlsError');
      assert.match(res.body.error.message, /the upstream stream \(wss:\/\/localhost:\d+\).*self-signed certificate in certificate chain/);
      assert.match(res.body.error.message, TRUST_HINT);
    });
    const open = (await loadCassette(file)).events.find((e): e is WsOpenEvent => e.type === 'ws.open')!;
    assert.equal(open.status, 502);
  });

  const cases: Array<[string, () => Leaf, RegExp]> = [
    ['an expired certificate', () => pki.expired, /certificate has expired \(CERT_HAS_EXPIRED\).*validity period/],
    ['a self-signed leaf', () => pki.selfSigned, /self[- ]signed certificate \(DEPTH_ZERO_SELF_SIGNED_CERT\)/],
    ['a certificate for another name', () => pki.wrongName, /altnames.*\(ERR_TLS_CERT_ALTNAME_INVALID\).*not for the upstream's host name/],
  ];
  for (const [what, leaf, reason] of cases) {
    it(`${what} (even with the test CA trusted): 502 naming the problem`, async () => {
      const emu = await emulatorWith(leaf());
      await withRecorder({ upstream: emu.domain, ca: pki.caFile }, async (domain) => {
        const res = await rawRequest(`${domain}/conversations`, { method: 'POST', headers: { authorization: `Bearer ${emu.secret}` } });
        assert.equal(res.status, 502);
        assert.equal(res.json.error.code, 'UpstreamTlsError');
        assert.match(res.json.error.message, reason);
        assert.match(res.json.error.message, TRUST_HINT);
        const ws = await tryUpgrade(`${domain.replace(/^http/, 'ws')}/conversations/abc/stream?t=x`);
        assert.equal(ws.status, 502);
        assert.match(ws.body.error.message, reason);
      });
    });
  }

  it('insecure: true records anyway and warns at every start', async () => {
    const emu = await emulatorWith(pki.localhost);
    for (let run = 0; run < 2; run++) {
      const lines = await withRecorder({ upstream: emu.domain, insecure: true }, async (domain) => {
        const res = await rawRequest(`${domain}/conversations`, { method: 'POST', headers: { authorization: `Bearer ${emu.secret}` } });
        assert.equal(res.status, 201);
        const ws = await tryUpgrade(res.json.streamUrl);
        assert.equal(ws.status, 101, 'the WSS leg is not verified either');
        ws.ws?.close();
      });
      const warn = lines.find((l) => l.level === 40 && /--insecure/.test(l.msg));
      assert.ok(warn, `start ${run + 1} logged the --insecure warning`);
      assert.match(warn.msg, /NOT verified/);
    }
  });

  it('the CLI trusts NODE_EXTRA_CA_CERTS and listens with --tls-cert/--tls-key', { timeout: 20_000 }, async () => {
    const emu = await emulatorWith(pki.localhost);
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'record',
        '--upstream',
        emu.domain,
        '--mode',
        'passthrough',
        '--port',
        '0',
        '--host',
        'localhost',
        '--tls-cert',
        pki.localhost.chainFile,
        '--tls-key',
        pki.localhost.keyFile,
        '--log-level',
        'warn',
        '--no-demo-page',
      ],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, NODE_EXTRA_CA_CERTS: pki.caFile, HTTPS_PROXY: '', https_proxy: '' },
      },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    try {
      const domain = await new Promise<string>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`no domain line; stderr: ${stderr}`)), 15_000);
        child.stdout.setEncoding('utf8').on('data', (d: string) => {
          out += d;
          const m = /domain = (\S+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
        child.once('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
      });
      assert.match(domain, /^https:\/\/localhost:\d+\/v3\/directline$/);
      const res = await rawRequest(`${domain}/conversations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${emu.secret}` },
        ca: pki.ca,
      });
      assert.equal(res.status, 201, res.text);
      assert.match(
        res.json.streamUrl,
        /^wss:\/\/localhost:\d+\/v3\/directline\/conversations\//,
        'streamUrl on the TLS listener is wss://',
      );
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });
});
