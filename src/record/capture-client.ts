// The relay thread's side of capture: it stamps what the proxy sees, copies the bytes it must and hands them to
// the capture worker (capture-worker.ts), which owns the cassette writer and does the rest (encoding,
// redaction, placeholders, serialisation, the file). One postMessage per event-loop turn (capture-protocol.ts).
//
// Backpressure: bytes handed over count until the worker acknowledges their batch, which it does once the batch's
// events are on disk (so events the worker holds in memory count, not only those waiting in its queue). Beyond
// MAX_QUEUED_BYTES the capture is "backed up": the relay pauses the sockets it reads from until the worker has
// caught up (whenDrained), so memory stays bounded and no event is ever dropped; the log says when that happens.
import type { HttpCaptureOf } from './capture.js';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { CassetteLockedError, type LockHolder } from '../cassette/lock.js';
import type { AppendFileStats } from '../cassette/append-file.js';
import type { Cassette, FaultNote } from '../cassette/schema.js';
import { CaptureTap } from './capture-tap.js';
import {
  Slab,
  type CallName,
  type CaptureOp,
  type CloseResult,
  type FromWorker,
  type ToWorker,
  type WireBody,
  type WireError,
  type WireResponse,
  type WorkerInit,
} from './capture-protocol.js';

/** Bytes handed to the worker and not yet on disk, beyond which the relay pauses its sockets. */
export const MAX_QUEUED_BYTES = 8 * 1024 * 1024;
/** Rough cost of an event beyond its bytes (headers, ids), for the queue's bound. */
const EVENT_OVERHEAD = 256;

/** A body as read off the wire, for the capture worker to encode. */
export interface RawBody {
  bytes: Buffer;
  contentType: string | undefined;
  /** A file (an attachment): kept byte for byte. */
  file?: boolean;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: RawBody;
}

export type RawHttpCapture = HttpCaptureOf<RawBody, RawResponse>;

export interface CaptureOptions extends Omit<WorkerInit, 'file' | 'flushAtBytes'> {
  /** The cassette file. */
  file: string;
  logger: Logger;
  /** Told when a stale lock is taken over (see lock.ts). */
  onTakeover?: (stale: LockHolder | null, lockFile: string) => void;
  /** Bound on bytes handed over and not yet on disk. Default MAX_QUEUED_BYTES. */
  maxQueuedBytes?: number;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

export class CaptureClient {
  /** Every event as captured, already redacted (the live inspector listens); fed from the worker while listened to. */
  readonly tap = new CaptureTap((on) => void this.call('tap', on).catch(() => undefined));
  /** The cassette file (absolute). */
  readonly file: string;
  private ops: CaptureOp[] = [];
  private readonly slab = new Slab();
  private batchBytes = 0;
  private scheduled = false;
  /** Bytes of batches posted and not yet acknowledged (their events not all on disk). */
  private queued = 0;
  private backed = false;
  private drainWaiters: Array<() => void> = [];
  private handed = 0;
  private holdIds = 0;
  private callIds = 0;
  private readonly calls = new Map<number, Pending>();
  private dead: Error | null = null;
  private closing: Promise<CloseResult> | null = null;
  private closed = false;
  private socketCount: number;
  private placeholders: Record<string, string> = {};
  private readonly clockBase: number;
  private readonly clockStart = performance.now();
  private readonly maxQueued: number;

  private constructor(
    private readonly worker: Worker,
    ready: { now: number; socketCount: number },
    private readonly opts: CaptureOptions,
  ) {
    this.file = resolve(opts.file);
    this.clockBase = ready.now;
    this.socketCount = ready.socketCount;
    this.maxQueued = opts.maxQueuedBytes ?? MAX_QUEUED_BYTES;
    worker.on('message', (m: FromWorker) => this.onMessage(m));
    worker.on('error', (err) => this.onDeath(err));
    worker.on('exit', (code) => {
      if (!this.closed) this.onDeath(new Error(`the capture worker exited (code ${code})`));
    });
  }

  /**
   * Starts the capture worker, which creates (or, with append, opens) the cassette and takes its lock: a lock
   * held by another recorder rejects with CassetteLockedError, a folder that is not writable with its error.
   */
  static async start(opts: CaptureOptions): Promise<CaptureClient> {
    const { logger: _logger, onTakeover, maxQueuedBytes, ...rest } = opts;
    // At a quarter of the bound the worker writes at once: under a fast stream the relay need not pause for the timer.
    const init: WorkerInit = { ...rest, file: resolve(opts.file), flushAtBytes: (maxQueuedBytes ?? MAX_QUEUED_BYTES) / 4 };
    const worker = spawnCaptureWorker(init);
    let onMessage: (m: FromWorker) => void = () => {};
    let onError: (err: Error) => void = () => {};
    let onExit: (code: number) => void = () => {};
    try {
      const ready = await new Promise<{ now: number; socketCount: number }>((res, rej) => {
        onMessage = (m: FromWorker) => {
          if (m.type === 'takeover') onTakeover?.(m.stale, m.lockFile);
          else if (m.type === 'ready') res(m);
          else if (m.type === 'failed') rej(toError(m.error));
        };
        onError = rej;
        onExit = (code) => rej(new Error(`the capture worker exited (code ${code}) before the cassette was open`));
        worker.on('message', onMessage).on('error', onError).on('exit', onExit);
      });
      return new CaptureClient(worker, ready, opts);
    } catch (err) {
      await worker.terminate();
      throw err;
    } finally {
      // (Worker.removeAllListeners would also take Node's own listeners, which deliver its messages.)
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
    }
  }

  /** Milliseconds since recording started (after the last event of a cassette opened to append to). */
  now(): number {
    return Math.round((this.clockBase + performance.now() - this.clockStart) * 1000) / 1000;
  }

  /** Events handed to the worker so far. */
  get eventCount(): number {
    return this.handed;
  }

  /** Whether the worker is behind by more than the bound: the relay should pause the sockets it reads. */
  get backedUp(): boolean {
    return this.backed;
  }

  /** Calls `fn` once the capture is no longer backed up (at once when it is not). */
  whenDrained(fn: () => void): void {
    if (!this.backed) fn();
    else this.drainWaiters.push(fn);
  }

  /**
   * An HTTP exchange stamped `t` (its request's arrival, from now()) is in flight and will be captured
   * with http() once answered: until the returned function is called, the cassette writer keeps every
   * event stamped at or after `t` off the disk, so the exchange is inserted before them without a full
   * rewrite of the file (CassetteWriter.hold). Call the returned function right after http() and on every
   * path where the exchange is not captured (an aborted request); extra calls do nothing.
   */
  hold(t: number): () => void {
    if (this.closing || this.dead) return () => {};
    const id = ++this.holdIds;
    this.push({ k: 'hold', id, t }, 0);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.push({ k: 'release', id }, 0);
    };
  }

  nextSocket(): number {
    return this.socketCount++;
  }

  http(c: RawHttpCapture): void {
    if (!this.accepting()) return;
    const size = EVENT_OVERHEAD + c.requestBody.bytes.length + (c.response?.body.bytes.length ?? 0);
    this.push(
      {
        k: 'http',
        t: c.t,
        conversationId: c.conversationId,
        route: c.route,
        method: c.method,
        path: c.path,
        query: c.query,
        requestHeaders: c.requestHeaders,
        requestBody: this.wire(c.requestBody),
        response: c.response ? this.wireResponse(c.response) : null,
        ...(c.error ? { error: c.error } : {}),
        duration: c.duration,
        ...(c.fault ? { fault: c.fault } : {}),
      },
      size,
    );
  }

  wsOpen(
    socket: number,
    conversationId: string | null,
    path: string,
    query: Record<string, string>,
    status: number,
    response?: RawResponse,
    fault?: FaultNote,
  ): void {
    if (!this.accepting()) return;
    const size = EVENT_OVERHEAD + (response?.body.bytes.length ?? 0);
    this.push(
      {
        k: 'open',
        t: this.now(),
        socket,
        conversationId,
        path,
        query,
        status,
        ...(response ? { response: this.wireResponse(response) } : {}),
        ...(fault ? { fault } : {}),
      },
      size,
    );
  }

  wsMessage(socket: number, conversationId: string | null, from: 'server' | 'client', data: Buffer, isBinary: boolean): void {
    if (!this.accepting()) return;
    this.push(
      { k: 'msg', t: this.now(), socket, conversationId, from, bytes: this.slab.add(data), binary: isBinary },
      EVENT_OVERHEAD + data.length,
    );
  }

  wsClose(
    socket: number,
    conversationId: string | null,
    by: 'server' | 'client' | 'proxy',
    code: number,
    reason: string,
    fault?: FaultNote,
  ): void {
    if (!this.accepting()) return;
    this.push(
      { k: 'close', t: this.now(), socket, conversationId, by, code, reason, ...(fault ? { fault } : {}) },
      EVENT_OVERHEAD + reason.length,
    );
  }

  /** `text` as the cassette keeps it (secrets replaced by their placeholders), e.g. for a log line. */
  redactText(text: string): Promise<string> {
    return this.call<string>('redactText', text);
  }

  /** The whole cassette as the worker has it (events on disk read back). */
  snapshot(): Promise<Cassette> {
    return this.call<Cassette>('snapshot');
  }

  /** What the cassette's writes have cost so far (counts of writes, bytes, serialised events). */
  stats(): Promise<AppendFileStats> {
    return this.call<AppendFileStats>('stats');
  }

  /** A full collection in the worker's heap, when the process runs with --expose-gc (memory measurements); else nothing. */
  collectGarbage(): Promise<void> {
    return this.call<void>('gc');
  }

  /** Writes everything captured so far to disk. */
  flush(): Promise<void> {
    return this.call<void>('flush');
  }

  /** Writes every event captured, releases the cassette's lock and stops the worker; nothing is captured after. */
  close(): Promise<CloseResult> {
    this.closing ??= (async () => {
      try {
        return await this.call<CloseResult>('close');
      } finally {
        this.closed = true;
        this.ops = [];
        await this.worker.terminate();
        this.drained();
      }
    })();
    return this.closing;
  }

  private accepting(): boolean {
    if (this.closing || this.dead) return false;
    this.handed++;
    return true;
  }

  private wire(b: RawBody): WireBody {
    return { bytes: this.slab.add(b.bytes), contentType: b.contentType, ...(b.file ? { file: true } : {}) };
  }

  private wireResponse(r: RawResponse): WireResponse {
    return { status: r.status, headers: r.headers, body: this.wire(r.body) };
  }

  private push(op: CaptureOp, size: number): void {
    this.ops.push(op);
    this.batchBytes += size;
    if (!this.backed && this.queued + this.batchBytes > this.maxQueued) {
      this.backed = true;
      this.opts.logger.warn(
        { queuedBytes: this.queued + this.batchBytes, maxQueuedBytes: this.maxQueued },
        'the capture worker is behind: pausing the relayed sockets until it catches up (no event is dropped)',
      );
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.post);
    }
  }

  /** Hands the batch of this turn to the worker. */
  private readonly post = (): void => {
    this.scheduled = false;
    if (this.ops.length === 0 || this.closed) return;
    const slab = this.slab.take();
    const msg: ToWorker = { type: 'batch', ops: this.ops, slab, size: this.batchBytes };
    this.queued += this.batchBytes;
    this.ops = [];
    this.batchBytes = 0;
    if (this.dead) return;
    this.worker.postMessage(msg, slab ? [slab] : []);
  };

  private call<T>(name: CallName, arg?: unknown): Promise<T> {
    this.post(); // everything captured so far goes first
    if (this.dead) return Promise.reject(this.dead);
    if (this.closed) return Promise.reject(new Error('the capture is closed'));
    const id = ++this.callIds;
    return new Promise<T>((res, rej) => {
      this.calls.set(id, { resolve: res as (v: unknown) => void, reject: rej });
      this.worker.postMessage({ type: 'call', id, name, arg } satisfies ToWorker);
    });
  }

  private onMessage(m: FromWorker): void {
    switch (m.type) {
      case 'ack':
        this.queued -= m.size;
        if (this.backed && this.queued + this.batchBytes <= this.maxQueued / 2) {
          this.opts.logger.info({ queuedBytes: this.queued + this.batchBytes }, 'the capture worker caught up: the relayed sockets resume');
          this.drained();
        }
        return;
      case 'reply': {
        const p = this.calls.get(m.id);
        this.calls.delete(m.id);
        if (m.error) p?.reject(toError(m.error));
        else p?.resolve(m.value);
        return;
      }
      case 'captureError':
        this.opts.logger.error({ err: m.message }, `could not capture a ${m.what}; it was relayed but is not in the cassette`);
        return;
      case 'tap':
        if (m.placeholders) this.placeholders = m.placeholders;
        for (const ev of m.events) this.tap.emit(ev, this.placeholders);
        return;
      case 'takeover':
        this.opts.onTakeover?.(m.stale, m.lockFile);
        return;
      default:
        return;
    }
  }

  private drained(): void {
    this.backed = false;
    for (const fn of this.drainWaiters.splice(0)) fn();
  }

  private onDeath(err: Error): void {
    if (this.dead || this.closed) return;
    this.dead = err;
    this.opts.logger.error({ err: err.message }, `the capture worker failed: nothing more is written to the cassette ${this.file}`);
    for (const p of this.calls.values()) p.reject(err);
    this.calls.clear();
    this.queued = 0;
    this.drained();
  }
}

function toError(e: WireError): Error {
  if (e.code === 'CASSETTE_LOCKED' && e.file && e.lockFile) return new CassetteLockedError(e.file, e.lockFile, e.holder ?? null);
  return Object.assign(new Error(e.message), e.code ? { code: e.code } : {});
}

/**
 * The worker's young generation: its events live until written, so a larger one buys fewer scavenges but no
 * less copying, and costs its size in RSS (measured: 8 MiB instead of V8's default cut the peak by ~15-40 MB at
 * no CPU cost per frame, bench/tools/memory-ws.ts and ab-ws.ts).
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 8 };

/** The worker: from dist/ its .js entry; from source (run through tsx) an entry that registers tsx first. */
function spawnCaptureWorker(init: WorkerInit): Worker {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    // A worker does not load a .ts entry through the parent's --import tsx: it registers tsx itself.
    const api = import.meta.resolve('tsx/esm/api');
    const entry = new URL('./capture-worker.ts', here).href;
    const code = `import { register } from ${JSON.stringify(api)}; register(); await import(${JSON.stringify(entry)});`;
    return new Worker(code, { eval: true, workerData: init, resourceLimits: WORKER_LIMITS });
  }
  return new Worker(new URL('./capture-worker.js', here), { workerData: init, resourceLimits: WORKER_LIMITS });
}
