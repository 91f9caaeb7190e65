// A lowdb adapter for the cassette file that writes only what changed.
//
// The file is laid out by serialize.ts as head + one line per event + tail (the tail holds the redaction
// table, which grows while recording). A write persists the events added since the last write and the
// new tail with ONE positional write at the byte offset where the previous tail began; the bytes before
// it are never written again, and each event is serialised once, when it is first persisted. So a write
// costs O(new events), not O(cassette).
//
// Where that positional write goes ("shadow" mode, the default):
//   A positional write into the file readers open is not atomic for them: a reader that runs while it
//   is under way (or that took the file's size just before it) sees the new bytes half-written, and a
//   SIGKILL arriving in the middle of a large write can cut it (the kernel stops between pages). So the
//   adapter keeps a second copy of the cassette next to it, `.<name>.shadow-a` (or `-b`), one write behind,
//   and every write goes there: the bytes of the previous write that it lacks + the new lines + the tail,
//   in one positional write; then `link(cassette, spare name)` keeps the old copy and
//   `rename(shadow, cassette)` puts the new one in place. Readers always open a complete file (as with
//   lowdb's own temp file + rename), a torn write can only hit the shadow, and each write still costs
//   O(new events) (every line is written twice in all: once into each copy). The shadow is removed by
//   close(); after a crash it may be left behind (the next writer of that cassette replaces it).
//   A copy that has just been replaced is written again one write later: a reader slower than the flush
//   interval could see that. Where hard links are not supported the adapter falls back to:
// "in-place" mode: the positional write goes into the cassette itself (atomic for SIGKILL only as far as
//   one write syscall is; readers can see a write half-done).
//
// A full rewrite (temp file + rename, through lowdb's TextFile, i.e. steno: atomic) is made instead
// when the incremental form cannot be used: the first write (the file's layout on disk is unknown, e.g.
// an existing cassette opened to append to), an event inserted before the persisted boundary (reported
// with `changedFrom`, or noticed because the last persisted event moved), a changed header, a tail that
// would get shorter in in-place mode (the file cannot shrink in one write), or a failed write. Even
// then the events whose text is still right are not serialised again: their bytes are read back.
//
// `persistable` lets the owner keep events back (an exchange still in flight will be inserted before
// them): only that many leading events are written; the tail is always current.
//
// Forgetting: the owner may drop leading events it no longer needs from `data.events` once they are on disk
// (forget(n), at a write boundary: forgettable()), so memory does not grow with the cassette. Indices the
// adapter takes and gives are then into what is left (`data.events`); the dropped events' bytes stay on disk,
// are reused byte for byte by full rewrites, and can be read back (readForgotten()) for an insert older than
// everything left in memory.
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { copyFile, link, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Adapter } from 'lowdb';
import { TextFile } from 'lowdb/node';
import type { Cassette, CassetteEvent } from './schema.js';
import { cassetteEventLine, cassetteHead, cassetteTail } from './serialize.js';

export type AppendFileMode = 'shadow' | 'in-place';

export interface AppendFileOptions {
  parse: (text: string) => Cassette;
  /** How many leading events may be written now (the rest wait for a later write). Default: all. */
  persistable?: (data: Cassette) => number;
  /** Where incremental writes go (see the top of this file). Default 'shadow'. */
  mode?: AppendFileMode;
}

export interface AppendFileStats {
  /** Writes that wrote only the new lines and the tail (one positional write). */
  incrementalWrites: number;
  /** Writes that replaced the whole file (temp file + rename). */
  fullWrites: number;
  /** Bytes handed to the file system, over all writes (both copies in shadow mode). */
  bytesWritten: number;
  /** Events turned into text (JSON.stringify), over all writes. */
  eventsSerialised: number;
  /** Bytes of earlier event lines read back from the file for full rewrites (instead of serialising again). */
  bytesReused: number;
}

/** One copy of the cassette on disk, open for positional writes. */
interface Copy {
  fh: FileHandle;
  /** Events it holds. */
  persisted: number;
  /** Byte offset where its tail begins. */
  tailAt: number;
  size: number;
}

/** Errors of link() that mean "this file system has no hard links here". */
const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV', 'EMLINK']);

export class AppendFile implements Adapter<Cassette> {
  readonly stats: AppendFileStats = { incrementalWrites: 0, fullWrites: 0, bytesWritten: 0, eventsSerialised: 0, bytesReused: 0 };
  readonly #path: string;
  readonly #whole: TextFile;
  readonly #parse: (text: string) => Cassette;
  readonly #persistable: (data: Cassette) => number;
  #mode: AppendFileMode;
  /** The copy at #path (null until the first full write, and after close). */
  #visible: Copy | null = null;
  /** Shadow mode: the copy at #shadowName, one write behind #visible. */
  #shadow: Copy | null = null;
  #shadowName: string;
  #spareName: string;
  /** Shadow mode: the line bytes #visible has and #shadow lacks (events #shadow.persisted … #persisted). */
  #lag: Buffer[] = [];
  /** Whether the file holds exactly what the fields below describe (false until the first full write). */
  #trusted = false;
  #head = '';
  #tail = '';
  /**
   * Where the text of event `#marks[2k]` (its separator) begins: byte `#marks[2k + 1]`. One mark per write
   * (the events it wrote start there), the last one at #persisted (the tail's offset), for reusing the
   * bytes of a prefix in a full rewrite.
   */
  #marks: number[] = [];
  #persisted = 0;
  /** Events forgotten (dropped from the front of data.events by the owner); their lines are on disk. */
  #base = 0;
  /** The marks (see #marks) of the forgotten events, by index into the whole cassette. */
  #forgottenMarks: number[] = [];
  /** Byte offset where the first event still in memory begins (its separator); the head's length while #base is 0. */
  #forgottenEnd = 0;
  /** The last persisted event object: if it no longer sits at index #persisted - 1, events moved. */
  #last: CassetteEvent | undefined;
  /** First persisted index whose line is no longer at its place (an insert before the boundary). */
  #changedFrom = Infinity;
  #queue: Promise<void> | null = null;
  /** A write is under way (its steps hold indices: nothing may be forgotten meanwhile). */
  #busy = false;

  constructor(path: string, opts: AppendFileOptions) {
    this.#path = path;
    this.#whole = new TextFile(path);
    this.#parse = opts.parse;
    this.#persistable = opts.persistable ?? ((d) => d.events.length);
    this.#mode = opts.mode ?? 'shadow';
    const base = join(dirname(path), `.${basename(path)}.shadow-`);
    this.#shadowName = `${base}a`;
    this.#spareName = `${base}b`;
  }

  /** Where incremental writes go now ('in-place' after hard links turned out not to work). */
  get mode(): AppendFileMode {
    return this.#mode;
  }

  /** Number of leading events of data.events on disk (or being written). */
  get persisted(): number {
    return this.#persisted;
  }

  /** Number of events forgotten (on disk only). */
  get forgotten(): number {
    return this.#base;
  }

  /** The largest n ≤ limit the owner may forget now: a write boundary, within what is on disk. */
  forgettable(limit: number): number {
    if (!this.#trusted || this.#busy) return 0;
    let n = 0;
    for (let k = 0; k < this.#marks.length; k += 2) {
      const index = this.#marks[k];
      // Not past an insert still to be written (the lines after it will be rewritten).
      if (index > limit || index > this.#persisted || index > this.#changedFrom) break;
      n = index;
    }
    return n;
  }

  /** The owner dropped the first `n` events of data.events (n from forgettable()). */
  forget(n: number): void {
    if (n <= 0) return;
    if (n !== this.forgettable(n)) throw new Error(`cannot forget ${n} events: not a write boundary on disk`);
    const marks: number[] = [];
    for (let k = 0; k < this.#marks.length; k += 2) {
      const index = this.#marks[k] - n;
      if (index >= 0) marks.push(index, this.#marks[k + 1]);
      else this.#forgottenMarks.push(this.#base + this.#marks[k], this.#marks[k + 1]);
    }
    this.#marks = marks;
    this.#forgottenEnd = marks[1];
    this.#base += n;
    this.#persisted -= n;
    if (this.#changedFrom !== Infinity) this.#changedFrom -= n;
    for (const c of [this.#visible, this.#shadow]) if (c) c.persisted -= n;
  }

  /**
   * Reads the forgotten events back from the cassette (for an insert older than everything in memory) and
   * forgets nothing any more: the owner puts them back in front of data.events.
   */
  readForgotten(): CassetteEvent[] {
    if (this.#base === 0) return [];
    const headBytes = Buffer.byteLength(this.#head);
    const buf = Buffer.allocUnsafe(this.#forgottenEnd - headBytes);
    const fd = openSync(this.#path, 'r');
    try {
      let done = 0;
      while (done < buf.length) {
        const n = readSync(fd, buf, done, buf.length - done, headBytes + done);
        if (n <= 0) throw new Error(`the cassette ${this.#path} is shorter than what was written to it`);
        done += n;
      }
    } finally {
      closeSync(fd);
    }
    // One event per line (JSON.stringify writes no raw newline), each after its separator (",\n    ").
    const events = buf
      .toString('utf8')
      .split('\n')
      .map((l) => l.trim().replace(/^,/, '').replace(/,$/, ''))
      .filter(Boolean)
      .map((l) => JSON.parse(l) as CassetteEvent);
    if (events.length !== this.#base)
      throw new Error(`read ${events.length} forgotten events back from ${this.#path}, expected ${this.#base}`);
    const n = this.#base;
    const marks = this.#forgottenMarks.length ? this.#forgottenMarks : [0, headBytes];
    for (let k = 0; k < this.#marks.length; k += 2) marks.push(this.#marks[k] + n, this.#marks[k + 1]);
    this.#marks = marks;
    this.#forgottenMarks = [];
    this.#base = 0;
    this.#forgottenEnd = headBytes;
    this.#persisted += n;
    if (this.#changedFrom !== Infinity) this.#changedFrom += n;
    for (const c of [this.#visible, this.#shadow]) if (c) c.persisted += n;
    return events;
  }

  /** Whether the next write must replace the whole file. */
  get needsFullWrite(): boolean {
    return !this.#trusted || this.#changedFrom < this.#persisted;
  }

  /** Tells the adapter that the event at `index` (and so everything after it) is new or moved. */
  changedFrom(index: number): void {
    if (index < this.#persisted && index < this.#changedFrom) this.#changedFrom = index;
  }

  async read(): Promise<Cassette | null> {
    const text = await this.#whole.read();
    if (text === null) return null;
    // Its layout is whatever wrote it: the first write replaces it.
    this.#trusted = false;
    return this.#parse(text);
  }

  /**
   * Persists `data` (its first `persistable(data)` events). The text is built synchronously, when this is
   * called (unless a write is under way); writes run one at a time, in call order.
   */
  write(data: Cassette): Promise<void> {
    const run = async () => {
      this.#busy = true;
      try {
        await this.#write(data);
      } finally {
        this.#busy = false;
      }
    };
    const p = this.#queue ? this.#queue.then(run, run) : run();
    const settled: Promise<void> = p
      .then(
        () => undefined,
        () => undefined,
      )
      .then(() => {
        if (this.#queue === settled) this.#queue = null;
      });
    this.#queue = settled;
    return p;
  }

  /** Closes the files and removes the shadow copy; a later write starts again with a full rewrite. */
  async close(): Promise<void> {
    while (this.#queue) await this.#queue;
    this.#trusted = false;
    await this.#closeCopies();
    await Promise.all([this.#shadowName, this.#spareName].map((n) => unlinkIfThere(n)));
  }

  async #closeCopies(): Promise<void> {
    const copies = [this.#visible, this.#shadow];
    this.#visible = null;
    this.#shadow = null;
    this.#lag = [];
    await Promise.all(copies.map((c) => c?.fh.close().catch(() => undefined)));
  }

  async #write(data: Cassette): Promise<void> {
    const events = data.events;
    const head = cassetteHead(data);
    const from = this.#persisted;
    const moved = from > 0 && events[from - 1] !== this.#last;
    const visible = this.#visible;
    const shadow = this.#mode === 'shadow' ? this.#shadow : null;
    if (!visible || (this.#mode === 'shadow' && !shadow) || !this.#trusted || head !== this.#head || moved || this.#changedFrom < from) {
      return this.#full(data, head);
    }
    const limit = Math.max(from, Math.min(events.length, this.#persistable(data)));
    const tail = cassetteTail(data, this.#base + limit);
    if (limit === from && tail === this.#tail) return;
    const added = linesBuffer(events, from, limit, this.#base);
    const tailBuf = Buffer.from(tail);
    const at = visible.tailAt;
    // In place, the file cannot shrink with one write (a truncate is a second step, and a crash between
    // the two would leave old bytes after the end): replace it instead.
    if (!shadow && at + added.length + tailBuf.length < visible.size) return this.#full(data, head);
    this.stats.eventsSerialised += limit - from;
    this.stats.incrementalWrites++;
    // The new state is committed now, synchronously, so that an insert reported while the bytes are on
    // their way counts against the new boundary.
    if (limit > from) this.#marks.push(limit, at + added.length);
    this.#persisted = limit;
    this.#last = limit > 0 ? events[limit - 1] : undefined;
    this.#tail = tail;
    try {
      if (shadow) {
        // The shadow gets what it lacks from the previous write, the new lines and the tail, then takes
        // the cassette's name; the old copy keeps a name (link) and becomes the shadow.
        const pos = shadow.tailAt;
        const bufs = [...this.#lag, added, tailBuf];
        const size = await writeAt(shadow.fh, bufs, pos);
        if (size < shadow.size) await shadow.fh.truncate(size);
        this.stats.bytesWritten += size - pos;
        shadow.size = size;
        shadow.persisted = limit;
        shadow.tailAt = at + added.length;
        await this.#publish();
        this.#lag = [added];
      } else {
        visible.size = await writeAt(visible.fh, [added, tailBuf], at);
        visible.persisted = limit;
        visible.tailAt = at + added.length;
        this.stats.bytesWritten += visible.size - at;
      }
    } catch (err) {
      // The cassette may not have this write (or, in place, part of it): put a whole copy in its place.
      // What it had before this write is intact either way, and is reused.
      this.#trusted = false;
      if (isNoLinks(err)) this.#mode = 'in-place';
      try {
        await this.#full(data, head, from);
      } catch {
        throw err;
      }
    }
  }

  /** Shadow mode: the shadow (complete) becomes the cassette; the old cassette becomes the shadow. */
  async #publish(): Promise<void> {
    try {
      await link(this.#path, this.#spareName);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // Left over by an earlier crash.
      await unlink(this.#spareName);
      await link(this.#path, this.#spareName);
    }
    await rename(this.#shadowName, this.#path);
    [this.#visible, this.#shadow] = [this.#shadow, this.#visible];
    [this.#shadowName, this.#spareName] = [this.#spareName, this.#shadowName];
    // The new shadow's handle was opened under the cassette's name, and file watchers would see writes
    // through it as changes of the cassette: reopen it under its own name.
    const shadow = this.#shadow!;
    await shadow.fh.close().catch(() => undefined);
    shadow.fh = await open(this.#shadowName, 'r+');
  }

  /**
   * Replaces the file with temp file + rename, reusing the bytes of the lines that did not move (at most
   * the first `reusable` events' when given: the state on disk is known up to there only).
   */
  async #full(data: Cassette, head: string, reusable?: number): Promise<void> {
    const events = data.events;
    const moved = this.#persisted > 0 && events[this.#persisted - 1] !== this.#last;
    // Never take back what is on disk: if the last persisted event is still in the array, it stays persisted.
    let floor = 0;
    if (this.#last) {
      const at = moved ? events.lastIndexOf(this.#last) : this.#persisted - 1;
      floor = at >= 0 ? at + 1 : 0;
    }
    const limit = Math.max(floor, Math.min(events.length, this.#persistable(data)));
    const source = this.#visible;
    // Lines that are still right, byte for byte, at the start of the file. Forgotten lines always are (nothing
    // is ever inserted before what is in memory), and they can only be had from the file.
    let keep = 0;
    if (this.#base > 0 || (source && (this.#trusted || reusable !== undefined) && head === this.#head)) {
      keep = Math.min(this.#persisted, reusable ?? Infinity, this.#changedFrom, limit);
      // An insert nobody reported: only what is certainly unchanged could be kept, so keep nothing.
      if (moved && this.#changedFrom === Infinity) keep = 0;
    }
    const headBytes = Buffer.byteLength(head);
    // Back to the start of the write that wrote event `keep`: the offsets of writes are known, not of lines.
    let m = 0;
    while (m + 2 < this.#marks.length && this.#marks[m + 2] <= keep) m += 2;
    const marks = (keep > 0 || this.#base > 0) && this.#marks.length ? this.#marks.slice(0, m + 2) : [0, headBytes];
    keep = marks[marks.length - 2];
    const reuse = marks[marks.length - 1] - headBytes;
    const parts: string[] = [];
    for (let i = keep; i < limit; i++) parts.push(cassetteEventLine(events[i], this.#base + i));
    const lines = parts.join('');
    const tail = cassetteTail(data, this.#base + limit);
    const tailAt = marks[marks.length - 1] + Buffer.byteLength(lines);
    if (limit > keep) marks.push(limit, tailAt);
    const size = tailAt + Buffer.byteLength(tail);
    this.stats.eventsSerialised += limit - keep;
    this.stats.fullWrites++;
    // Commit the new state (see #write); the file is trusted again once it is in place and reopened.
    this.#trusted = false;
    this.#head = head;
    this.#tail = tail;
    this.#marks = marks;
    this.#persisted = limit;
    this.#last = limit > 0 ? events[limit - 1] : undefined;
    this.#changedFrom = Infinity;
    let kept = '';
    try {
      if (reuse > 0 && (source || this.#base > 0)) {
        const buf = Buffer.allocUnsafe(reuse);
        if (source) await readAt(source.fh, buf, headBytes);
        else {
          const fh = await open(this.#path, 'r');
          try {
            await readAt(fh, buf, headBytes);
          } finally {
            await fh.close();
          }
        }
        kept = buf.toString('utf8');
        this.stats.bytesReused += reuse;
      }
    } finally {
      await this.#closeCopies();
    }
    await this.#whole.write(head + kept + lines + tail);
    this.stats.bytesWritten += size;
    const fh = await open(this.#path, 'r+');
    const onDisk = (await fh.stat()).size;
    this.#visible = { fh, persisted: limit, tailAt, size: onDisk };
    // Someone else's file (or a different length): do not write into it at an offset; replace it next time.
    if (onDisk !== size) return;
    if (this.#mode === 'shadow') {
      // A fresh file (not whatever an earlier crash left under that name), then a copy of the cassette.
      await unlinkIfThere(this.#shadowName);
      await copyFile(this.#path, this.#shadowName, constants.COPYFILE_FICLONE);
      this.#shadow = { fh: await open(this.#shadowName, 'r+'), persisted: limit, tailAt, size };
      this.stats.bytesWritten += size;
    } else {
      await unlinkIfThere(this.#shadowName);
    }
    this.#trusted = true;
  }
}

function isNoLinks(err: unknown): boolean {
  return NO_LINKS.has((err as NodeJS.ErrnoException | undefined)?.code ?? '');
}

async function unlinkIfThere(path: string): Promise<void> {
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}

/** Writes `bufs` at `position` (one write normally; a short write is continued); returns the end offset. */
async function writeAt(fh: FileHandle, bufs: Buffer[], position: number): Promise<number> {
  const total = bufs.reduce((n, b) => n + b.length, 0);
  let done = 0;
  let rest = bufs;
  while (done < total) {
    const { bytesWritten } = await fh.writev(rest, position + done);
    if (bytesWritten <= 0) throw new Error(`could not write to the cassette at byte ${position + done}`);
    done += bytesWritten;
    rest = [];
    let skip = done;
    for (const b of bufs) {
      if (skip >= b.length) skip -= b.length;
      else {
        rest.push(skip ? b.subarray(skip) : b);
        skip = 0;
      }
    }
  }
  return position + total;
}

async function readAt(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await fh.read(buf, done, buf.length - done, position + done);
    if (bytesRead <= 0) throw new Error(`the cassette is shorter than expected (${position + done} bytes)`);
    done += bytesRead;
  }
}

/**
 * The lines of events [from, limit) as bytes, each encoded straight into one growing buffer: no string of all the
 * lines is made (a write under a fast stream holds megabytes of lines, and such strings are large objects the
 * garbage collector only reclaims in a full collection).
 */
function linesBuffer(events: CassetteEvent[], from: number, limit: number, base: number): Buffer {
  let buf = Buffer.allocUnsafe(64 * 1024);
  let used = 0;
  for (let i = from; i < limit; i++) {
    const line = cassetteEventLine(events[i], base + i);
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    if (used + line.length * 3 > buf.length) {
      const next = Buffer.allocUnsafe(Math.max(buf.length * 2, used + line.length * 3));
      buf.copy(next, 0, 0, used);
      buf = next;
    }
    used += buf.write(line, used);
  }
  return buf.subarray(0, used);
}
