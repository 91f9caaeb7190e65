// The cassette on disk while recording. lowdb rewrites the whole file on every write, so writes are
// batched: events collect in memory and are flushed on a timer whose interval grows with the cost of
// the last write (keeping total write work linear), and on close. lowdb's writer (steno) writes a temp
// file and renames it, so the file on disk is always a complete cassette, even after SIGKILL.
import { access } from 'node:fs/promises';
import { constants } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Low } from 'lowdb';
import { DataFile } from 'lowdb/node';
import { CASSETTE_VERSION, type Cassette, type CassetteEvent } from './schema.js';
import { parseCassette } from './load.js';
import { stringifyCassette } from './serialize.js';
import { TOOL_NAME, TOOL_VERSION } from '../version.js';

export interface CassetteWriterOptions {
  /** Upper bound on how long an event may wait in memory before it is on disk (ms). Default 200. */
  flushIntervalMs?: number;
  upstream: { origin: string; basePath: string };
  /** Keep the events of an existing cassette and append to it (record mode "auto"). */
  append?: boolean;
}

export class CassetteWriter {
  private readonly db: Low<Cassette>;
  private timer: NodeJS.Timeout | null = null;
  private dirty = false;
  private closed = false;
  private lastWriteMs = 0;
  private writing: Promise<void> = Promise.resolve();
  private readonly baseInterval: number;
  readonly startedAt = performance.now();

  private constructor(readonly file: string, db: Low<Cassette>, baseInterval: number) {
    this.db = db;
    this.baseInterval = baseInterval;
  }

  /** Creates (or truncates) the cassette file; fails early when its folder is not writable. */
  static async create(file: string, opts: CassetteWriterOptions): Promise<CassetteWriter> {
    const path = resolve(file);
    const dir = dirname(path);
    // No recursive mkdir: a typo in a path should fail loudly rather than create folders
    // (and recursive mkdir can hang on special file systems such as /proc).
    await access(dir, constants.W_OK).catch((err: NodeJS.ErrnoException) => {
      throw Object.assign(new Error(`cannot write the cassette ${path}: its folder ${dir} ${err.code === 'ENOENT' ? 'does not exist' : 'is not writable'} (${err.code})`), { code: err.code });
    });
    const adapter = new DataFile<Cassette>(path, { parse: (s) => parseCassette(s, path), stringify: stringifyCassette });
    const fresh: Cassette = {
      version: CASSETTE_VERSION,
      tool: { name: TOOL_NAME, version: TOOL_VERSION },
      createdAt: new Date().toISOString(),
      upstream: opts.upstream,
      redaction: { placeholders: {} },
      events: [],
    };
    const db = new Low<Cassette>(adapter, fresh);
    if (opts.append) {
      try {
        await db.read();
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    const writer = new CassetteWriter(path, db, opts.flushIntervalMs ?? 200);
    await db.write();
    return writer;
  }

  get data(): Cassette {
    return this.db.data;
  }

  /** Milliseconds since recording started (the `t` of a new event). */
  now(): number {
    return Math.round((performance.now() - this.startedAt) * 1000) / 1000;
  }

  /**
   * Adds an event in time order. An HTTP exchange is written when its response is complete but is
   * stamped with the time its request arrived, so it may belong a few places before the end.
   */
  append(event: CassetteEvent): CassetteEvent {
    const events = this.db.data.events;
    let i = events.length;
    while (i > 0 && events[i - 1].t > event.t) i--;
    if (i === events.length) events.push(event);
    else events.splice(i, 0, event);
    this.markDirty();
    return event;
  }

  setPlaceholders(placeholders: Record<string, string>): void {
    this.db.data.redaction.placeholders = placeholders;
  }

  private markDirty(): void {
    this.dirty = true;
    if (this.timer || this.closed) return;
    // Interval grows with the size of the file: never spend more than ~20% of the time writing.
    const interval = Math.max(this.baseInterval, this.lastWriteMs * 4);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, interval);
    this.timer.unref();
  }

  /** Writes everything appended so far. Safe to call at any time; concurrent calls are serialised. */
  flush(): Promise<void> {
    const run = async () => {
      if (!this.dirty) return;
      this.dirty = false;
      const t0 = performance.now();
      await this.db.write();
      this.lastWriteMs = performance.now() - t0;
    };
    this.writing = this.writing.then(run, run);
    return this.writing;
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.closed = true;
    this.dirty = true;
    await this.flush();
  }
}
