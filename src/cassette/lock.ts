// One recorder per cassette: while a writer records, it holds `.<name>.lock` beside the cassette, a small JSON
// file naming the holder (pid, host name, port and URL when known). A second writer of the same cassette is
// refused with an error naming the file and the holder, so two recorders never overwrite each other's events.
//
// Stale locks: a holder that was killed (kill -9, a crash, a power cut) leaves its lock behind. On the same
// machine the lock is stale as soon as its pid is gone; from another machine (a shared folder) it is stale when
// the holder stopped touching it: a holder refreshes the file's mtime every HEARTBEAT_MS. A stale lock is taken
// over with a warning. Creation is O_EXCL (atomic on local file systems and NFSv3+); a takeover renames the stale
// file away first, so of two takers only one wins.
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { open, readFile, rename, stat, unlink, utimes } from 'node:fs/promises';

const HEARTBEAT_MS = 10_000;
/** A lock from another machine whose holder has not touched it for this long is stale. */
const STALE_MS = 3 * HEARTBEAT_MS;
/** A lock file still empty or half-written after this long was left by a holder killed while creating it. */
const UNREADABLE_GRACE_MS = 2_000;

export interface LockHolder {
  pid: number;
  hostname: string;
  /** Where the holder listens, when it is a recorder. */
  port?: number;
  url?: string;
  startedAt: string;
}

export class CassetteLockedError extends Error {
  readonly code = 'CASSETTE_LOCKED';
  constructor(
    readonly file: string,
    readonly lockFile: string,
    readonly holder: LockHolder | null,
  ) {
    super(
      `the cassette ${file} is being recorded by another directline-vcr (${describeHolder(holder)}); ` +
        `stop that recorder or record to another file (the lock is ${lockFile}; if no such recorder runs, delete it)`,
    );
  }
}

export function describeHolder(h: LockHolder | null): string {
  if (!h) return 'holder unknown';
  const where = h.url ?? (h.port !== undefined ? `port ${h.port}` : null);
  return [
    `pid ${h.pid}`,
    h.hostname !== hostname() ? `on ${h.hostname}` : null,
    where ? `listening at ${where}` : null,
    `since ${h.startedAt}`,
  ]
    .filter(Boolean)
    .join(', ');
}

export function lockFileOf(cassette: string): string {
  return join(dirname(cassette), `.${basename(cassette)}.lock`);
}

export interface AcquireOptions {
  /** What the lock tells a second recorder about this one. */
  port?: number;
  url?: string;
  /** Told when a stale lock is taken over. */
  onTakeover?: (stale: LockHolder | null, lockFile: string) => void;
}

export class CassetteLock {
  private heartbeat: NodeJS.Timeout | null = null;
  private released = false;

  private constructor(
    readonly file: string,
    readonly lockFile: string,
    readonly holder: LockHolder,
  ) {
    this.heartbeat = setInterval(() => {
      const now = new Date();
      utimes(this.lockFile, now, now).catch(() => undefined);
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /** Takes the lock of `cassette` (an absolute path), or throws CassetteLockedError naming the holder. */
  static async acquire(cassette: string, opts: AcquireOptions = {}): Promise<CassetteLock> {
    const lockFile = lockFileOf(cassette);
    const holder: LockHolder = {
      pid: process.pid,
      hostname: hostname(),
      startedAt: new Date().toISOString(),
      ...(opts.port !== undefined ? { port: opts.port } : {}),
      ...(opts.url ? { url: opts.url } : {}),
    };
    const text = JSON.stringify(holder) + '\n';
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const fh = await open(lockFile, 'wx');
        try {
          await fh.writeFile(text);
        } finally {
          await fh.close();
        }
        return new CassetteLock(cassette, lockFile, holder);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw Object.assign(new Error(`cannot lock the cassette ${cassette}: ${(err as Error).message}`), {
            code: (err as NodeJS.ErrnoException).code,
          });
        }
      }
      const current = await readHolder(lockFile);
      if (current === 'gone') continue; // released meanwhile
      if (!(await isStale(lockFile, current))) throw new CassetteLockedError(cassette, lockFile, current);
      // Rename first: of two recorders taking the same stale lock over, only one finds it to rename.
      const away = `${lockFile}.stale-${process.pid}-${attempt}`;
      try {
        await rename(lockFile, away);
      } catch {
        continue;
      }
      await unlink(away).catch(() => undefined);
      opts.onTakeover?.(current, lockFile);
    }
    throw new CassetteLockedError(cassette, lockFile, null);
  }

  /** Gives the lock up (only if it is still this writer's); safe to call twice. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    const current = await readHolder(this.lockFile);
    if (current !== 'gone' && current && current.pid === this.holder.pid && current.startedAt === this.holder.startedAt) {
      await unlink(this.lockFile).catch(() => undefined);
    }
  }
}

async function readHolder(lockFile: string): Promise<LockHolder | null | 'gone'> {
  let text: string;
  try {
    text = await readFile(lockFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    return null;
  }
  try {
    const h = JSON.parse(text) as LockHolder;
    return typeof h.pid === 'number' && typeof h.hostname === 'string' ? h : null;
  } catch {
    return null;
  }
}

async function isStale(lockFile: string, holder: LockHolder | null): Promise<boolean> {
  let age: number;
  try {
    age = Date.now() - (await stat(lockFile)).mtimeMs;
  } catch {
    return false; // gone meanwhile: the next attempt creates it
  }
  if (!holder) return age > UNREADABLE_GRACE_MS;
  if (holder.hostname === hostname()) return !isAlive(holder.pid);
  return age > STALE_MS;
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, it is someone else's.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
