// Forward-proxy mode, with real parts: a Node app (botframework-directlinejs, no domain set, HTTPS_PROXY and
// NODE_EXTRA_CA_CERTS) records through `forward` into the emulator and replays from the cassette; CONNECTs to
// other hosts are tunnelled to a local server, or refused with onlyDirectLine; the CA key is mode 0600.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRecorder, startReplayer } from '../../src/index.ts';
import { LocalCa } from '../../src/forward/ca.ts';
import { startEmulator, DEFAULT_SECRET, type Emulator } from '../emulator/index.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLIENT = join(ROOT, 'test', 'forward', 'node-client.ts');

let dir: string;
let caDir: string;
let emulator: Emulator;
let other: http.Server;
let otherPort: number;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dlvcr-forward-'));
  caDir = join(dir, 'ca');
  emulator = await startEmulator();
  // "Some other host" a proxied client may also call.
  other = http.createServer((_req, res) => res.end('hello from the other host')).listen(0, '127.0.0.1');
  await new Promise((resolve) => other.once('listening', resolve));
  otherPort = (other.address() as AddressInfo).port;
});

after(async () => {
  await emulator.close();
  await new Promise((resolve) => other.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

/** The environment of a proxied client: only the variables under test, none inherited. */
function clientEnv(proxy: string, extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (/^(https?|no|all)_proxy$/i.test(k) || k === 'NODE_EXTRA_CA_CERTS') delete env[k];
  return { ...env, HTTPS_PROXY: proxy, NODE_EXTRA_CA_CERTS: join(caDir, 'ca.pem'), ...extra };
}

async function runClient(
  proxy: string,
  transport: 'websocket' | 'polling',
  say: string,
): Promise<{ texts: string[]; error: string | null }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLIENT], {
    cwd: ROOT,
    env: clientEnv(proxy, { DL_SECRET: DEFAULT_SECRET, DL_TRANSPORT: transport, DL_SAY: say }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => {
    out += c;
  });
  child.stderr.on('data', (c) => {
    err += c;
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const line = out.trim().split('\n').pop() ?? '';
  assert.ok(line.startsWith('{'), `the client printed no result (exit ${code}); stderr:\n${err}`);
  return JSON.parse(line) as { texts: string[]; error: string | null };
}

function connect(proxyPort: number, authority: string): Promise<{ status: number; socket: Duplex; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: proxyPort, method: 'CONNECT', path: authority });
    req.on('connect', (res, socket, head) => {
      let body = head.toString('utf8');
      if (res.statusCode !== 200) {
        socket.on('data', (c) => {
          body += c;
        });
        socket.on('end', () => resolve({ status: res.statusCode ?? 0, socket, body }));
        socket.on('close', () => resolve({ status: res.statusCode ?? 0, socket, body }));
      } else resolve({ status: 200, socket, body });
    });
    req.on('error', reject);
    req.end();
  });
}

function getThrough(socket: Duplex, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    socket.on('data', (c) => {
      data += c;
    });
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
    socket.write(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
  });
}

test('a Node client with no domain records through --forward, WebSocket and polling, and replays from the cassette', async () => {
  const cassette = join(dir, 'forward.json');
  const recorder = await startRecorder({ upstream: emulator.domain, cassette, forward: { caDir } });
  const proxy = recorder.url;
  const ws = await runClient(proxy, 'websocket', 'over the stream');
  assert.equal(ws.error, null);
  assert.deepEqual(ws.texts, ['Welcome to the emulator bot!', 'over the stream', 'You said: over the stream']);
  const polled = await runClient(proxy, 'polling', 'by polling');
  assert.equal(polled.error, null);
  assert.deepEqual(polled.texts, ['Welcome to the emulator bot!', 'by polling', 'You said: by polling']);
  await recorder.close();

  const recorded = JSON.parse(await readFile(cassette, 'utf8'));
  assert.equal(emulator.conversations().length, 2, 'both conversations reached the upstream');
  assert.equal(recorded.events.filter((e: any) => e.route === 'conversations.start').length, 2);
  assert.equal(recorded.events.filter((e: any) => e.type === 'ws.open').length, 1, 'the WebSocket client streamed through the proxy');
  assert.ok(!JSON.stringify(recorded).includes(DEFAULT_SECRET), 'no secret in the cassette');

  const seen = emulator.requests.length;
  const replay = await startReplayer({ cassette, forward: { caDir }, speed: 0 });
  const ws2 = await runClient(replay.url, 'websocket', 'over the stream');
  const polled2 = await runClient(replay.url, 'polling', 'by polling');
  const summary = replay.summary();
  await replay.close();
  assert.equal(ws2.error, null);
  assert.deepEqual(ws2.texts, ws.texts);
  assert.equal(polled2.error, null);
  assert.deepEqual(polled2.texts, polled.texts);
  assert.equal(summary.unmatched, 0, JSON.stringify(summary.unmatchedRequests));
  assert.equal(summary.conversations, 2);
  assert.equal(emulator.requests.length, seen, 'the replay never reached the upstream');
});

test('a CONNECT to a host that is not Direct Line is tunnelled untouched, or refused with onlyDirectLine', async () => {
  const tunnelling = await startRecorder({ upstream: emulator.domain, forward: { caDir } });
  try {
    const { status, socket } = await connect(tunnelling.port, `127.0.0.1:${otherPort}`);
    assert.equal(status, 200);
    const answer = await getThrough(socket, `127.0.0.1:${otherPort}`);
    assert.match(answer, /^HTTP\/1\.1 200/);
    assert.match(answer, /hello from the other host/);
  } finally {
    await tunnelling.close();
  }
  const strict = await startReplayer({ cassette: join(ROOT, 'recordings', 'demo.json'), forward: { caDir, onlyDirectLine: true } });
  try {
    const { status, body } = await connect(strict.port, `127.0.0.1:${otherPort}`);
    assert.equal(status, 403);
    assert.match(body, /127\.0\.0\.1:\d+ is not a Direct Line host, and this proxy only serves Direct Line \(--forward-only-directline\)/);
  } finally {
    await strict.close();
  }
});

test('the CA is made once: ca.pem is a CA certificate, ca-key.pem has mode 0600, and the next start reuses them', async () => {
  const fresh = join(dir, 'fresh-ca');
  const first = await LocalCa.open(fresh);
  assert.equal(first.created, true);
  assert.equal((await stat(join(fresh, 'ca-key.pem'))).mode & 0o777, 0o600);
  assert.equal((await stat(fresh)).mode & 0o777, 0o700);
  const cert = new X509Certificate(await readFile(join(fresh, 'ca.pem')));
  assert.equal(cert.ca, true);
  assert.match(cert.subject, /directline-vcr local CA/);
  const leaf = new X509Certificate(first.leafFor('europe.directline.botframework.com').cert);
  assert.ok(leaf.verify(cert.publicKey), 'the leaf is signed by the CA');
  assert.equal(leaf.checkHost('europe.directline.botframework.com'), 'europe.directline.botframework.com');
  const second = await LocalCa.open(fresh);
  assert.equal(second.created, false);
  assert.equal(second.certPem, first.certPem);
});

test('record --forward (CLI) makes a CA in ~/.directline-vcr, says how to trust it; --forward-only-directline refuses others', async () => {
  const home = join(dir, 'home');
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'record',
      '--upstream',
      emulator.domain,
      '--mode',
      'passthrough',
      '--port',
      '0',
      '--no-demo-page',
      '--no-config',
      '--forward',
      '--forward-only-directline',
      '--log-level',
      'info',
    ],
    { cwd: ROOT, env: { ...process.env, HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  try {
    let out = '';
    let err = '';
    child.stderr.on('data', (c) => {
      err += c;
    });
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no domain line; stdout ${out}, stderr ${err}`)), 15_000);
      child.stdout.on('data', (c) => {
        out += c;
        const m = /domain = http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
    });
    const caFile = join(home, '.directline-vcr', 'ca.pem');
    assert.match(err, new RegExp(`NODE_EXTRA_CA_CERTS=${caFile.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
    assert.equal((await stat(join(home, '.directline-vcr', 'ca-key.pem'))).mode & 0o777, 0o600);
    assert.equal(new X509Certificate(await readFile(caFile)).ca, true);
    const { status } = await connect(port, `127.0.0.1:${otherPort}`);
    assert.equal(status, 403);
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
});
