// What the relay thread and the capture worker (capture-worker.ts) say to each other. The relay thread copies
// only what it must (method, path, chosen headers, status, times, body and frame bytes) and hands it over in
// batches, one postMessage per event-loop turn: every byte of a batch sits in one ArrayBuffer (a Slab),
// transferred, not cloned. Holds and their releases travel in the same ordered batch as the events, so the
// worker sees them in the order the relay made them.
import type { HttpCaptureOf } from './capture.js';
import type { Cassette, CassetteEvent, FaultNote } from '../cassette/schema.js';
import type { RedactionRules } from '../cassette/redact.js';
import type { LockHolder } from '../cassette/lock.js';

/** Bytes of a batch: [offset, length] into the batch's slab. */
export type Bytes = [number, number];

/** A body as it came off the wire: decoded into a cassette body (encodeBody) in the worker. */
export interface WireBody {
  bytes: Bytes;
  contentType: string | undefined;
  /** A file (an attachment): kept byte for byte as base64, never parsed. */
  file?: boolean;
}

export interface WireResponse {
  status: number;
  headers: Record<string, string>;
  body: WireBody;
}

export type CaptureOp =
  | { k: 'hold'; id: number; t: number }
  | { k: 'release'; id: number }
  | ({ k: 'http' } & HttpCaptureOf<WireBody, WireResponse>)
  | {
      k: 'open';
      t: number;
      socket: number;
      conversationId: string | null;
      path: string;
      query: Record<string, string>;
      status: number;
      response?: WireResponse;
      fault?: FaultNote;
    }
  | { k: 'msg'; t: number; socket: number; conversationId: string | null; from: 'server' | 'client'; bytes: Bytes; binary: boolean }
  | {
      k: 'close';
      t: number;
      socket: number;
      conversationId: string | null;
      by: 'server' | 'client' | 'proxy';
      code: number;
      reason: string;
      fault?: FaultNote;
    };

export interface WorkerInit {
  file: string;
  flushIntervalMs?: number;
  upstream: { origin: string; basePath: string };
  append?: boolean;
  lock: { port?: number; url?: string };
  redact: RedactionRules;
  /** Bytes of batches not yet on disk at which the worker writes without waiting for the flush timer. */
  flushAtBytes: number;
}

export type CallName = 'flush' | 'close' | 'snapshot' | 'stats' | 'redactText' | 'tap' | 'gc';

export type ToWorker =
  | { type: 'batch'; ops: CaptureOp[]; slab: ArrayBuffer | null; size: number }
  | { type: 'call'; id: number; name: CallName; arg?: unknown };

export interface WireError {
  message: string;
  code?: string;
  file?: string;
  lockFile?: string;
  holder?: LockHolder | null;
}

export type FromWorker =
  | { type: 'ready'; now: number; socketCount: number }
  | { type: 'failed'; error: WireError }
  | { type: 'ack'; size: number }
  | { type: 'reply'; id: number; value?: unknown; error?: WireError }
  | { type: 'captureError'; what: string; message: string }
  | { type: 'takeover'; stale: LockHolder | null; lockFile: string }
  | { type: 'tap'; events: CassetteEvent[]; placeholders?: Record<string, string> };

/** What close() answers: how many events the cassette holds in all. */
export interface CloseResult {
  events: number;
}

export type SnapshotResult = Cassette;

/**
 * Batches of up to this many bytes leave the slab as an exact copy and the slab is used again: a fresh 64 KB
 * buffer per batch (zeroed, then given away) cost more than the copy (bench/tools/capture-clone-cost.ts).
 */
const COPY_MAX = 256 * 1024;

/**
 * The bytes of one batch, copied in as events are captured (the relay's buffers may be reused or masked once
 * relayed) and handed over whole. Grows by doubling; a large batch takes the buffer with it and a new one starts.
 */
export class Slab {
  private buf: Uint8Array;
  private used = 0;

  constructor(private readonly initial = 64 * 1024) {
    this.buf = new Uint8Array(initial);
  }

  get size(): number {
    return this.used;
  }

  add(b: Uint8Array): Bytes {
    if (this.used + b.length > this.buf.length) {
      let cap = this.buf.length * 2;
      while (cap < this.used + b.length) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(this.buf.subarray(0, this.used));
      this.buf = next;
    }
    this.buf.set(b, this.used);
    const at: Bytes = [this.used, b.length];
    this.used += b.length;
    return at;
  }

  /** The bytes so far (to transfer), or null when there are none; the slab starts empty again. */
  take(): ArrayBuffer | null {
    if (this.used === 0) return null;
    let out: ArrayBuffer;
    if (this.used <= COPY_MAX) out = this.buf.slice(0, this.used).buffer;
    else {
      out = this.buf.buffer as ArrayBuffer;
      this.buf = new Uint8Array(this.initial);
    }
    this.used = 0;
    return out;
  }
}
