// `directline-vcr record` as a process: SIGTERM/SIGINT write everything seen, even frames that arrived a
// few milliseconds before the signal, and the process exits 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '../emulator/index.js';
import { loadCassette } from '../../src/cassette/load.js';
import { decodeFrame } from '../../src/cassette/body.js';
import type { WsCloseEvent } from '../../src/cassette/schema.js';
import { httpEvents, StreamClient, wsMessages } from './helpers.js';
import { within } from '../support/async.js';
import { tempDir } from '../support/fs.js';
import { call } from '../support/http.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Cli {
  child: ChildProcess;
  domain: string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function spawnRecorder(args: string[]): Promise<Cli> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'record', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const domain = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no domain line within 15 s; stdout ${JSON.stringify(out)}, stderr ${JSON.stringify(err)}`)),
      15_000,
    );
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /domain = (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before printing the domain; stderr ${err}`));
    });
  });
  return { child, domain, stderr: () => err, exited };
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`${signal}: the CLI writes frames that arrived just before the signal and exits 0`, async () => {
    const emu = await startEmulator({});
    const tmp = await tempDir();
    const file = tmp.file('cli.json');
    let cli: Cli | undefined;
    let s: StreamClient | undefined;
    try {
      // A flush interval far longer than the test: only the signal's flush can write the frames.
      cli = await spawnRecorder([
        '--upstream',
        emu.domain,
        '--cassette',
        file,
        '--port',
        '0',
        '--flush-interval',
        '60000',
        '--log-level',
        'warn',
      ]);
      assert.match(cli.domain, /^http:\/\/127\.0\.0\.1:\d+\/v3\/directline$/);
      const start = await call(cli.domain, 'POST', '/conversations', { bearer: emu.secret });
      assert.equal(start.status, 201);
      s = await StreamClient.open(start.json.streamUrl);
      const client = s;
      let onDisk: number | undefined;
      const c = cli;
      // Signal the moment the last frame of the burst arrives.
      const signalled = new Promise<void>((resolve) => {
        client.onFrame = (text) => {
          if (!text.includes('"burst 20/20"')) return;
          onDisk = JSON.parse(readFileSync(file, 'utf8')).events.length;
          c.child.kill(signal);
          resolve();
        };
      });
      const post = await call(cli.domain, 'POST', `/conversations/${start.json.conversationId}/activities`, {
        bearer: emu.secret,
        body: { type: 'message', text: 'burst 20', from: { id: 'u' } },
      });
      assert.equal(post.status, 200);
      await within(signalled, 'the last burst frame');
      const exit = await within(cli.exited, 'the recorder to exit', 10_000);
      assert.deepEqual(exit, { code: 0, signal: null }, cli.stderr());
      assert.deepEqual(await s.closedWithin(), { code: 1001, reason: 'directline-vcr stopped' });
      assert.equal(onDisk, 0, 'nothing but the header was on disk before the signal');

      const cas = await loadCassette(file);
      const recorded = wsMessages(cas)
        .filter((m) => m.from === 'server')
        .map((m) => decodeFrame(m.data).payload);
      assert.equal(s.frames.length, 23, 'welcome, echo, typing and 20 burst frames'); // sanity of the scenario
      assert.deepEqual(recorded, s.frames, 'every frame the client saw is in the cassette, byte for byte');
      assert.deepEqual(
        httpEvents(cas).map((e) => [e.route, e.response?.status]),
        [
          ['conversations.start', 201],
          ['activities.post', 200],
        ],
      );
      const closes = cas.events.filter((e): e is WsCloseEvent => e.type === 'ws.close');
      assert.deepEqual(
        closes.map((e) => [e.by, e.code, e.reason]),
        [['proxy', 1001, 'directline-vcr stopped']],
      );
    } finally {
      if (cli && cli.child.exitCode === null && cli.child.signalCode === null) {
        cli.child.kill('SIGKILL');
        await cli.exited;
      }
      await s?.close();
      await emu.close();
      await tmp.cleanup();
    }
  });
}
