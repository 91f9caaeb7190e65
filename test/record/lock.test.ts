// Two recorders, one cassette: the second refuses to start (API and CLI) with an error naming the file and the
// holder, and the first one's recording stays whole; a holder killed with SIGKILL leaves a lock that the next
// recorder takes over with a warning; `auto` mode from two worker processes records once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '../emulator/index.js';
import { startRecorder } from '../../src/record/recorder.js';
import { CassetteLockedError, lockFileOf } from '../../src/cassette/lock.js';
import { loadCassette } from '../../src/cassette/load.js';
import { spawnRecorder } from '../reliability/processes.js';
import { call } from '../support/http.js';
import { tempDir } from '../support/fs.js';
import { collectingLogger, httpEvents } from './helpers.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

test('API: a second recorder of a cassette being recorded refuses to start; the first one loses nothing', async () => {
  const emu = await startEmulator({});
  const tmp = await tempDir();
  try {
    const file = tmp.file('c.json');
    const first = await startRecorder({ upstream: emu.domain, cassette: file });
    const start = await call(first.domain, 'POST', '/conversations', { bearer: emu.secret });
    assert.equal(start.status, 201);
    const err = await startRecorder({ upstream: emu.domain, cassette: file }).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(err instanceof CassetteLockedError, String(err));
    assert.ok(err.message.includes(file), err.message);
    assert.match(err.message, new RegExp(`pid ${process.pid}, listening at http://127\\.0\\.0\\.1:${first.port}`));
    // The refused recorder let go of its port and never touched the file.
    await first.close();
    const c = await loadCassette(file);
    assert.deepEqual(
      httpEvents(c).map((e) => e.route),
      ['conversations.start'],
    );
    assert.equal(existsSync(lockFileOf(file)), false, 'the lock is gone after close()');
    // Now free: another recorder may take it.
    const next = await startRecorder({ upstream: emu.domain, cassette: file, append: true });
    await next.close();
  } finally {
    await emu.close();
    await tmp.cleanup();
  }
});

test('CLI: a second `record` of the same cassette exits 2 naming the holder; a SIGKILLed holder is taken over with a warning', async () => {
  const emu = await startEmulator({});
  const tmp = await tempDir();
  const file = tmp.file('c.json');
  const first = await spawnRecorder(['--upstream', emu.domain, '--cassette', file, '--log-level', 'warn', '--flush-interval', '20']);
  try {
    const start = await call(first.domain, 'POST', '/conversations', { bearer: emu.secret });
    assert.equal(start.status, 201);
    const second = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'record', '--port', '0', '--upstream', emu.domain, '--cassette', file],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    second.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const code = await new Promise<number | null>((r) => second.once('exit', r));
    assert.equal(code, 2, stderr);
    assert.ok(stderr.includes(file), stderr);
    assert.match(stderr, new RegExp(`pid ${first.pid}, listening at http://127\\.0\\.0\\.1:${first.port}`));
    // The holder dies without a word: its lock stays behind, and the next recorder takes it over.
    await first.kill();
    assert.equal(existsSync(lockFileOf(file)), true);
    const log = collectingLogger();
    const next = await startRecorder({ upstream: emu.domain, cassette: file, append: true, logger: log.logger });
    await next.close();
    assert.match(
      log.text(),
      new RegExp(`took over the lock of .*c\\.json: its holder \\(pid ${first.pid}, listening at http://127\\.0\\.0\\.1:${first.port}`),
    );
    // append: the killed recorder's exchange (on disk before the kill) is still there.
    assert.deepEqual(
      httpEvents(await loadCassette(file)).map((e) => e.route),
      ['conversations.start'],
    );
  } finally {
    await first.kill();
    await emu.close();
    await tmp.cleanup();
  }
});

interface WorkerResult {
  ok: boolean;
  mode?: string;
  domain?: string;
  code?: string;
  message?: string;
  holderPid?: number | null;
  pid: number;
}

function startWorker(cassette: string, upstream: string) {
  const child = spawn(
    process.execPath,
    ['--conditions=dlvcr-source', '--import', 'tsx', 'test/record/auto-worker.ts', cassette, upstream],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const result = new Promise<WorkerResult>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const line = out.split('\n')[0];
      if (out.includes('\n')) resolve(JSON.parse(line!) as WorkerResult);
    });
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) without a result: ${out}`)));
  });
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  return { child, result, exited };
}

test('auto mode from two worker processes on one missing cassette: one records, the other is refused; nothing is lost', async () => {
  const emu = await startEmulator({});
  const tmp = await tempDir();
  const file = tmp.file('shared.json');
  const workers = [startWorker(file, emu.domain), startWorker(file, emu.domain)];
  try {
    const results = await Promise.all(workers.map((w) => w.result));
    const recording = results.filter((r) => r.ok);
    const refused = results.filter((r) => !r.ok);
    assert.equal(recording.length, 1, JSON.stringify(results));
    assert.equal(recording[0]!.mode, 'record');
    assert.equal(refused.length, 1, JSON.stringify(results));
    assert.equal(refused[0]!.code, 'CASSETTE_LOCKED');
    assert.equal(refused[0]!.holderPid, recording[0]!.pid);
    assert.ok(refused[0]!.message!.includes(file), refused[0]!.message);
    const start = await call(recording[0]!.domain!, 'POST', '/conversations', { bearer: emu.secret });
    assert.equal(start.status, 201);
    const holder = workers.find((w) => w.child.pid === recording[0]!.pid)!;
    holder.child.kill('SIGTERM');
    assert.equal(await holder.exited, 0);
    assert.deepEqual(
      httpEvents(await loadCassette(file)).map((e) => e.route),
      ['conversations.start'],
    );
    // The cassette now holds a recording: the next worker replays it.
    const third = startWorker(file, emu.domain);
    workers.push(third);
    assert.equal((await third.result).mode, 'replay');
  } finally {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    await emu.close();
    await tmp.cleanup();
  }
});
