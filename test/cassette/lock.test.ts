// The cassette lock: one holder at a time, a refusal naming the holder, stale locks of dead holders taken over.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, utimesSync } from 'node:fs';
import { hostname } from 'node:os';
import { CassetteLock, CassetteLockedError, lockFileOf } from '../../src/cassette/lock.js';
import { tempDir } from '../support/fs.js';

test('a second lock of the same cassette is refused, naming the file, the lock and the holder; release frees it', async () => {
  const tmp = await tempDir();
  try {
    const file = tmp.file('c.json');
    const first = await CassetteLock.acquire(file, { port: 4978, url: 'http://127.0.0.1:4978' });
    assert.equal(first.lockFile, lockFileOf(file));
    assert.deepEqual(JSON.parse(readFileSync(first.lockFile, 'utf8')), { ...first.holder });
    const err = await CassetteLock.acquire(file).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(err instanceof CassetteLockedError, String(err));
    assert.equal(err.code, 'CASSETTE_LOCKED');
    assert.equal(err.holder?.pid, process.pid);
    assert.equal(err.holder?.port, 4978);
    assert.ok(err.message.includes(file), err.message);
    assert.ok(err.message.includes(first.lockFile), err.message);
    assert.match(err.message, new RegExp(`pid ${process.pid}, listening at http://127\\.0\\.0\\.1:4978`));
    await first.release();
    assert.equal(existsSync(first.lockFile), false);
    const again = await CassetteLock.acquire(file);
    await again.release();
    await again.release(); // twice is harmless
  } finally {
    await tmp.cleanup();
  }
});

test('a lock left by a killed process is taken over, and the taker is told who held it', async () => {
  const tmp = await tempDir();
  try {
    const file = tmp.file('c.json');
    // A real holder in another process, killed with SIGKILL: it cannot release anything.
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--conditions=dlvcr-source',
        '-e',
        `import('${new URL('../../src/cassette/lock.ts', import.meta.url).pathname}').then(async (m) => { await ` +
          `m.CassetteLock.acquire(${JSON.stringify(file)}, { port: 1234 }); console.log('locked'); setInterval(() => {}, 1000); ` +
          '})',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
      child.once('exit', (code) => reject(new Error(`holder exited early (${code})`)));
    });
    await assert.rejects(
      CassetteLock.acquire(file),
      (e: unknown) => e instanceof CassetteLockedError && e.holder?.pid === child.pid && e.holder?.port === 1234,
    );
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const told: Array<number | undefined> = [];
    const lock = await CassetteLock.acquire(file, { onTakeover: (stale) => told.push(stale?.pid) });
    assert.deepEqual(told, [child.pid]);
    assert.equal(JSON.parse(readFileSync(lock.lockFile, 'utf8')).pid, process.pid);
    await lock.release();
  } finally {
    await tmp.cleanup();
  }
});

test('a lock from another machine is stale only when its holder stopped refreshing it; an unreadable one after a grace', async () => {
  const tmp = await tempDir();
  try {
    const file = tmp.file('c.json');
    const lockFile = lockFileOf(file);
    writeFileSync(lockFile, JSON.stringify({ pid: 1, hostname: `not-${hostname()}`, startedAt: '2026-01-01T00:00:00.000Z' }));
    await assert.rejects(CassetteLock.acquire(file), /pid 1, on not-/);
    const old = new Date(Date.now() - 60_000);
    utimesSync(lockFile, old, old);
    const lock = await CassetteLock.acquire(file);
    await lock.release();

    writeFileSync(lockFile, '{"pid": 12'); // cut short by a crash while it was written
    await assert.rejects(CassetteLock.acquire(file), /holder unknown/);
    utimesSync(lockFile, old, old);
    const taken = await CassetteLock.acquire(file);
    await taken.release();
  } finally {
    await tmp.cleanup();
  }
});
