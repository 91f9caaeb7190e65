// The capture worker (a worker_threads worker, started by capture-client.ts): it owns the cassette writer and its
// lock, and turns what the relay thread hands over (capture-protocol.ts) into cassette events: bodies and frames
// encoded here, then Capture (capture.ts) replaces secrets by placeholders, keeps the placeholder table and hands
// the events to the writer, which serialises and writes them.
// None of that costs the relay thread's event loop anything.
import { parentPort, workerData } from 'node:worker_threads';
import { encodeBody, encodeFrame, readableEvent } from '../cassette/body.js';
import { CassetteLockedError } from '../cassette/lock.js';
import { Redactor } from '../cassette/redact.js';
import type { Body, CassetteEvent } from '../cassette/schema.js';
import { CassetteWriter } from '../cassette/store.js';
import { Capture } from './capture.js';
import type { Bytes, CaptureOp, FromWorker, ToWorker, WireBody, WireError, WorkerInit } from './capture-protocol.js';

const port = parentPort!;
const init = workerData as WorkerInit;
const send = (m: FromWorker) => port.postMessage(m);

function wireError(err: unknown): WireError {
  const e = err as Error & { code?: string };
  if (e instanceof CassetteLockedError) return { message: e.message, code: e.code, file: e.file, lockFile: e.lockFile, holder: e.holder };
  return { message: e?.message ?? String(err), ...(typeof e?.code === 'string' ? { code: e.code } : {}) };
}

class Worker {
  private readonly redactor = new Redactor(init.redact);
  private readonly capture: Capture;
  private readonly holds = new Map<number, () => void>();
  private tapped: CassetteEvent[] | null = null;
  private untap: (() => void) | null = null;
  private tappedPlaceholders = 0;
  private slab = new Uint8Array(0);
  /**
   * Batches taken in whose events are not all on disk yet, oldest first: the writer's event count once the
   * batch was appended, and the batch's size. A batch is acknowledged (its bytes stop counting against the
   * relay's bound, capture-client.ts) once that many events are on disk, so what the worker holds in memory
   * counts too, not only what waits in its queue.
   */
  private readonly unacked: Array<{ events: number; size: number }> = [];
  private unackedBytes = 0;
  private flushing = false;

  constructor(private readonly writer: CassetteWriter) {
    this.capture = new Capture(writer, this.redactor, (err, what) => send({ type: 'captureError', what, message: err.message }));
  }

  /** Takes a batch in; it is acknowledged once its events are written (written()). */
  take(ops: CaptureOp[], slab: ArrayBuffer | null, size: number): void {
    this.batch(ops, slab);
    this.unacked.push({ events: this.writer.eventCount, size });
    this.unackedBytes += size;
    this.written(this.writer.writtenCount);
    if (!this.flushEarly()) this.writer.flushIfDue();
  }

  /**
   * Under a fast stream, writes now rather than at the timer, before the relay has to pause for its bound; again
   * after each such write while enough has come in meanwhile (the relay may be paused: no batch would ask).
   */
  private flushEarly(): boolean {
    if (this.flushing || this.unackedBytes < init.flushAtBytes) return this.flushing;
    this.flushing = true;
    const before = this.writer.writtenCount;
    void this.writer.flush().finally(() => {
      this.flushing = false;
      // No progress (every event waits behind a hold): the writer's timer writes them when the hold expires.
      if (this.writer.writtenCount > before) this.flushEarly();
    });
    return true;
  }

  /** Acknowledges the batches whose events are all on disk (`onDisk` events in all). */
  written(onDisk: number): void {
    let size = 0;
    let n = 0;
    while (n < this.unacked.length && this.unacked[n].events <= onDisk) size += this.unacked[n++].size;
    if (n === 0) return;
    this.unacked.splice(0, n);
    this.unackedBytes -= size;
    send({ type: 'ack', size });
  }

  private batch(ops: CaptureOp[], slab: ArrayBuffer | null): void {
    this.slab = slab ? new Uint8Array(slab) : new Uint8Array(0);
    const c = this.capture;
    for (const op of ops) {
      switch (op.k) {
        case 'hold':
          this.holds.set(op.id, c.hold(op.t));
          break;
        case 'release':
          this.holds.get(op.id)?.();
          this.holds.delete(op.id);
          break;
        case 'http': {
          const request = this.decoded('http exchange', () => this.body(op.requestBody));
          const body = op.response ? this.decoded('http exchange', () => this.body(op.response!.body)) : null;
          if (request === undefined || body === undefined) break;
          const response = op.response ? { status: op.response.status, headers: op.response.headers, body } : null;
          const { k: _k, requestBody: _b, response: _r, ...rest } = op;
          c.http({ ...rest, requestBody: request, response });
          break;
        }
        case 'open': {
          const body = op.response ? this.decoded('stream open', () => this.body(op.response!.body)) : null;
          if (body === undefined) break;
          const response = op.response ? { status: op.response.status, headers: op.response.headers, body } : undefined;
          c.wsOpen(op.t, op.socket, op.conversationId, op.path, op.query, op.status, response, op.fault);
          break;
        }
        case 'msg': {
          const data = this.decoded('stream frame', () => encodeFrame(this.bytes(op.bytes), op.binary));
          if (data !== undefined) c.wsMessage(op.t, op.socket, op.conversationId, op.from, data);
          break;
        }
        case 'close':
          c.wsClose(op.t, op.socket, op.conversationId, op.by, op.code, op.reason, op.fault);
          break;
      }
    }
    this.slab = new Uint8Array(0);
    const events = this.tapped;
    if (events?.length) {
      this.tapped = [];
      const n = this.redactor.size;
      const changed = n !== this.tappedPlaceholders;
      this.tappedPlaceholders = n;
      send({ type: 'tap', events, ...(changed ? { placeholders: { ...this.redactor.placeholders } } : {}) });
    }
  }

  /** What `fn` makes of the wire bytes, or undefined (reported) when it throws. */
  private decoded<T>(what: string, fn: () => T): T | undefined {
    try {
      return fn();
    } catch (err) {
      send({ type: 'captureError', what, message: (err as Error).message });
      return undefined;
    }
  }

  private bytes(b: Bytes): Buffer {
    return Buffer.from(this.slab.buffer, this.slab.byteOffset + b[0], b[1]);
  }

  private body(b: WireBody): Body {
    const buf = this.bytes(b.bytes);
    if (b.file) return buf.length ? { base64: buf.toString('base64') } : null;
    return encodeBody(buf, b.contentType);
  }

  /** Events go back to the relay thread (its inspector tap) while it listens. */
  private setTap(on: boolean): void {
    if (on && !this.untap) {
      this.tapped = [];
      this.tappedPlaceholders = -1;
      this.untap = this.capture.tap.subscribe((ev) => this.tapped?.push(readableEvent(ev)));
    } else if (!on && this.untap) {
      this.untap();
      this.untap = null;
      this.tapped = null;
    }
  }

  async call(name: string, arg: unknown): Promise<unknown> {
    switch (name) {
      case 'flush':
        return this.writer.flush();
      case 'close':
        for (const release of this.holds.values()) release();
        this.holds.clear();
        await this.writer.close();
        return { events: this.writer.eventCount };
      case 'snapshot':
        return this.writer.snapshot();
      case 'stats':
        return { ...this.writer.stats };
      case 'redactText':
        return this.redactor.text(String(arg));
      case 'tap':
        this.setTap(Boolean(arg));
        return undefined;
      case 'gc':
        (globalThis as { gc?: () => void }).gc?.();
        return undefined;
      default:
        throw new Error(`unknown call ${name}`);
    }
  }
}

// Messages that arrive while the writer is being created wait for it (in order).
const early: ToWorker[] = [];
let worker: Worker | null = null;
const handle = (m: ToWorker) => {
  if (!worker) return void early.push(m);
  if (m.type === 'batch') {
    worker.take(m.ops, m.slab, m.size);
    return;
  }
  worker.call(m.name, m.arg).then(
    (value) => send({ type: 'reply', id: m.id, value }),
    (err: unknown) => send({ type: 'reply', id: m.id, error: wireError(err) }),
  );
};
port.on('message', handle);

try {
  const writer = await CassetteWriter.create(init.file, {
    upstream: init.upstream,
    flushIntervalMs: init.flushIntervalMs,
    append: init.append,
    lock: { ...init.lock, onTakeover: (stale, lockFile) => send({ type: 'takeover', stale, lockFile }) },
    onWritten: (onDisk) => worker?.written(onDisk),
  });
  worker = new Worker(writer);
  const socketCount = writer.data.events.reduce((n, e) => ('socket' in e ? Math.max(n, e.socket + 1) : n), 0);
  send({ type: 'ready', now: writer.now(), socketCount });
  for (const m of early.splice(0)) handle(m);
} catch (err) {
  send({ type: 'failed', error: wireError(err) });
  port.close();
}
