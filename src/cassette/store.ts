// The cassette on disk while recording. Events collect in memory and are flushed on a timer (and on
// close) through lowdb, whose adapter (append-file.ts) writes only what changed: the new event lines and
// the closing text, in one positional write where the previous closing text began. Each event is
// serialised once, so a flush costs O(new events) and never stalls the proxy for the size of the session.
//
// Events are kept in time order, and an HTTP exchange is appended when its response is complete but
// stamped with the time its request arrived, so it lands a few places before the end. To keep such
// inserts out of the already written part, an exchange in flight holds back (hold()) the events stamped
// at or after its request: flushes write the stable prefix only. A hold older than maxHoldMs (a slow
// bot) stops holding: the events behind it are written anyway, and the late insert costs one full
// rewrite (temp file + rename: atomic). So the file on disk never lacks more than about the flush
// interval + maxHoldMs, even after SIGKILL.
//
// Memory: events on disk that no hold can need any more (stamped before the oldest exchange in flight) are
// dropped from `data.events` after each write (append-file.ts forgets them), so a recording's memory does not
// grow with its length. `data.events` is what is left in memory; eventCount counts all, snapshot() reads all.
import { access } from 'node:fs/promises';
import { constants, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Low } from 'lowdb';
import { CASSETTE_VERSION, type Cassette, type CassetteEvent } from './schema.js';
import { parseCassette } from './load.js';
import { readableEvent } from './body.js';
import { AppendFile, type AppendFileStats } from './append-file.js';
import { TOOL_NAME, TOOL_VERSION } from '../version.js';
import { CassetteLock, type AcquireOptions } from './lock.js';

export interface CassetteWriterOptions {
  /** Upper bound on how long an event may wait in memory before it is on disk (ms). Default 200. */
  flushIntervalMs?: number;
  upstream: { origin: string; basePath: string };
  /** Keep the events of an existing cassette and append to it (record mode "auto"). */
  append?: boolean;
  /** How long (ms) a hold may keep later events off the disk before they are written anyway. Default 1000. */
  maxHoldMs?: number;
  /**
   * The cassette is locked while this writer records (lock.ts): what the lock tells a second recorder about
   * this one, and who hears of a stale lock taken over. false: no lock (tests of the writer alone).
   */
  lock?: AcquireOptions | false;
  /** Told after each completed write how many events are on disk in all (the capture worker's acknowledgements). */
  onWritten?: (eventsOnDisk: number) => void;
}

interface Hold {
  t: number;
  since: number;
}

export class CassetteWriter {
  private readonly db: Low<Cassette>;
  private readonly adapter: AppendFile;
  private timer: NodeJS.Timeout | null = null;
  private timerDue = Infinity;
  private dirty = false;
  private tailDirty = false;
  private closed = false;
  /** Duration of the last write if it was a full rewrite, else 0 (see interval()). */
  private lastWriteMs = 0;
  private writing: Promise<void> = Promise.resolve();
  private readonly baseInterval: number;
  private readonly maxHoldMs: number;
  private readonly onWritten: (eventsOnDisk: number) => void;
  private readonly holds = new Set<Hold>();
  /** The time of the last event forgotten (on disk only): an event stamped before it needs them back. */
  private lastForgottenT = -Infinity;
  /** now() of this recording starts here: after the last event of a cassette opened to append to. */
  private readonly timeBase: number;
  readonly startedAt = performance.now();

  private constructor(
    readonly file: string,
    db: Low<Cassette>,
    adapter: AppendFile,
    opts: CassetteWriterOptions,
    private readonly lock: CassetteLock | null,
  ) {
    this.db = db;
    this.adapter = adapter;
    this.baseInterval = opts.flushIntervalMs ?? 200;
    this.maxHoldMs = opts.maxHoldMs ?? 1000;
    this.onWritten = opts.onWritten ?? (() => {});
    const events = db.data.events;
    this.timeBase = events.length ? events[events.length - 1].t : 0;
  }

  /** Creates (or truncates) the cassette file; fails early when its folder is not writable. */
  static async create(file: string, opts: CassetteWriterOptions): Promise<CassetteWriter> {
    const path = resolve(file);
    const dir = dirname(path);
    // No recursive mkdir: a typo in a path should fail loudly rather than create folders
    // (and recursive mkdir can hang on special file systems such as /proc).
    await access(dir, constants.W_OK).catch((err: NodeJS.ErrnoException) => {
      throw Object.assign(
        new Error(
          `cannot write the cassette ${path}: its folder ${dir} ` +
            `${err.code === 'ENOENT' ? 'does not exist' : 'is not writable'} (${err.code})`,
        ),
        { code: err.code },
      );
    });
    // Before the file is read or truncated: a second recorder must not touch a cassette being recorded.
    const lock = opts.lock === false ? null : await CassetteLock.acquire(path, opts.lock ?? {});
    try {
      return await CassetteWriter.open(path, opts, lock);
    } catch (err) {
      await lock?.release();
      throw err;
    }
  }

  private static async open(path: string, opts: CassetteWriterOptions, lock: CassetteLock | null): Promise<CassetteWriter> {
    let writer: CassetteWriter | null = null;
    const adapter = new AppendFile(path, {
      parse: (s) => parseCassette(s, path),
      persistable: (d) => writer?.stableCount(d.events) ?? d.events.length,
    });
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
    writer = new CassetteWriter(path, db, adapter, opts, lock);
    // The first write replaces the file (a fresh cassette, or the old one in this writer's layout).
    await db.write();
    return writer;
  }

  /** The cassette as far as it is in memory: `events` lacks those already written and forgotten (see snapshot()). */
  get data(): Cassette {
    return this.db.data;
  }

  /** Events recorded in all (on disk and in memory). */
  get eventCount(): number {
    return this.adapter.forgotten + this.db.data.events.length;
  }

  /** Events on disk (or being written) in all. */
  get writtenCount(): number {
    return this.adapter.forgotten + this.adapter.persisted;
  }

  /** The whole cassette, forgotten events read back from the file (for tests and tools; costs a read). */
  snapshot(): Cassette {
    const forgotten = this.adapter.forgotten > 0 ? readForgottenCopy(this.file, this.adapter.forgotten) : [];
    return { ...this.db.data, events: [...forgotten, ...this.db.data.events.map(readableEvent)] };
  }

  /** What the writes have cost so far (counts of writes, bytes, serialised events). */
  get stats(): Readonly<AppendFileStats> {
    return this.adapter.stats;
  }

  /** Milliseconds since recording started (the `t` of a new event). */
  now(): number {
    return Math.round((this.timeBase + performance.now() - this.startedAt) * 1000) / 1000;
  }

  /**
   * Adds an event in time order. An HTTP exchange is written when its response is complete but is
   * stamped with the time its request arrived, so it may belong a few places before the end.
   */
  append(event: CassetteEvent): CassetteEvent {
    let events = this.db.data.events;
    let i = events.length;
    while (i > 0 && events[i - 1].t > event.t) i--;
    if (i === 0 && this.adapter.forgotten > 0 && event.t < this.lastForgottenT) {
      // Older than everything in memory (no hold covered it): the forgotten events come back for the insert.
      events = this.db.data.events = [...this.adapter.readForgotten(), ...events];
      this.lastForgottenT = -Infinity;
      i = events.length;
      while (i > 0 && events[i - 1].t > event.t) i--;
    }
    if (i === events.length) events.push(event);
    else {
      events.splice(i, 0, event);
      // Before the written part: the next write is a full rewrite (see hold()).
      this.adapter.changedFrom(i);
    }
    this.markDirty();
    return event;
  }

  /**
   * Declares that an event stamped `t` (an HTTP exchange whose request arrived at `t`) will be appended
   * later: until the returned function is called, flushes keep every event with time ≥ t off the disk,
   * so the insert lands after the written part and costs no full rewrite. After maxHoldMs the hold no
   * longer holds anything back. Call the returned function when the event was appended or will never
   * be (calling it more than once is harmless). close() writes everything regardless.
   */
  hold(t: number): () => void {
    if (this.closed) return () => {};
    const h: Hold = { t, since: performance.now() };
    this.holds.add(h);
    return () => {
      if (!this.holds.delete(h)) return;
      // Events were waiting behind it: write them at the next tick of the timer.
      if (this.adapter.persisted < this.db.data.events.length) this.schedule(this.interval());
    };
  }

  setPlaceholders(placeholders: Record<string, string>): void {
    this.db.data.redaction.placeholders = placeholders;
    this.tailDirty = true;
    this.markDirty();
  }

  /** How many leading events may be written now: those before the oldest event an active hold keeps back. */
  private stableCount(events: CassetteEvent[]): number {
    if (this.closed || this.holds.size === 0) return events.length;
    const now = performance.now();
    let t = Infinity;
    for (const h of this.holds) if (now - h.since < this.maxHoldMs && h.t < t) t = h.t;
    if (t === Infinity) return events.length;
    // Events are sorted by time: the first one at or after t.
    let lo = 0;
    let hi = events.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (events[mid].t < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private interval(): number {
    // The interval grows with the cost of the last write, so that rewriting never takes more than ~20% of
    // the time. Only a full rewrite counts (its cost grows with the cassette): an incremental write costs
    // in proportion to the events it writes, so a longer interval would not make writing cheaper, only
    // each write (and its event-loop stall) bigger — and the next interval longer still.
    return Math.max(this.baseInterval, this.lastWriteMs * 4);
  }

  private markDirty(): void {
    this.dirty = true;
    if (this.closed) return;
    this.schedule(this.interval());
  }

  /** Makes sure a flush runs within `ms`. */
  private schedule(ms: number): void {
    if (this.closed) return;
    const due = performance.now() + ms;
    if (this.timer) {
      if (this.timerDue <= due) return;
      clearTimeout(this.timer);
    }
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerDue = Infinity;
      void this.flush();
    }, ms);
    this.timer.unref();
  }

  /**
   * Starts the flush the timer has due if it has not run yet. A thread kept busy by a steady stream of
   * messages (the capture worker under a fast stream) may not get to its timers for seconds: it calls this
   * after each batch, so events keep reaching the disk (and leaving memory) at the flush interval.
   */
  flushIfDue(): void {
    if (!this.timer || performance.now() < this.timerDue) return;
    clearTimeout(this.timer);
    this.timer = null;
    this.timerDue = Infinity;
    void this.flush();
  }

  /** When events wait behind holds: flush again when the oldest of those holds stops holding. */
  private scheduleWaiting(): void {
    const events = this.db.data.events;
    const next = this.adapter.persisted;
    if (next >= events.length) return;
    const now = performance.now();
    let expiry = Infinity;
    for (const h of this.holds) if (h.t <= events[next].t) expiry = Math.min(expiry, h.since + this.maxHoldMs - now);
    // (No blocking hold left: it was released or expired meanwhile.)
    this.schedule(expiry === Infinity ? this.interval() : Math.max(1, Math.ceil(expiry)));
  }

  /**
   * Writes everything appended so far, except events held back by holds (hold()). Safe to call at any
   * time; concurrent calls are serialised.
   */
  flush(): Promise<void> {
    const run = async () => {
      if (!this.dirty) return;
      const events = this.db.data.events;
      // Nothing to write yet: every new event waits behind a hold.
      if (!this.tailDirty && !this.adapter.needsFullWrite && this.stableCount(events) <= this.adapter.persisted) {
        this.scheduleWaiting();
        return;
      }
      this.dirty = false;
      this.tailDirty = false;
      const t0 = performance.now();
      const fullBefore = this.adapter.stats.fullWrites;
      try {
        await this.db.write();
      } catch (err) {
        this.dirty = true;
        throw err;
      }
      this.lastWriteMs = this.adapter.stats.fullWrites !== fullBefore ? performance.now() - t0 : 0;
      this.forgetWritten();
      this.onWritten(this.writtenCount);
      if (this.adapter.persisted < this.db.data.events.length || this.adapter.needsFullWrite) {
        this.dirty = true;
        this.scheduleWaiting();
      }
    };
    this.writing = this.writing.then(run, run);
    return this.writing;
  }

  /** Drops the written events no hold can need (stamped at or before the oldest open hold's time). */
  private forgetWritten(): void {
    const events = this.db.data.events;
    let oldest = Infinity;
    for (const h of this.holds) if (h.t < oldest) oldest = h.t;
    // An exchange held at t is inserted after the events stamped at or before t.
    let needed = events.length;
    if (oldest !== Infinity) {
      let lo = 0;
      let hi = events.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (events[mid].t <= oldest) lo = mid + 1;
        else hi = mid;
      }
      needed = lo;
    }
    const n = this.adapter.forgettable(Math.min(needed, this.adapter.persisted));
    if (n <= 0) return;
    this.lastForgottenT = events[n - 1].t;
    events.splice(0, n);
    this.adapter.forget(n);
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerDue = Infinity;
    this.closed = true;
    // Everything, holds or not (flush() writes all once closed).
    try {
      await this.flush();
    } finally {
      await this.adapter.close();
      await this.lock?.release();
    }
  }
}

/** The first `n` events of a cassette file being written (its lines up to there are final). */
function readForgottenCopy(file: string, n: number): CassetteEvent[] {
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf('"events": [');
  const out: CassetteEvent[] = [];
  let at = text.indexOf('\n', start) + 1;
  while (out.length < n && at > 0) {
    const end = text.indexOf('\n', at);
    const line = text
      .slice(at, end < 0 ? undefined : end)
      .trim()
      .replace(/,$/, '');
    out.push(JSON.parse(line) as CassetteEvent);
    at = end + 1;
  }
  return out;
}
