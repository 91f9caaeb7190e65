// One opened stream seen through the fault plan: every server frame passes here on its way to the client.
// Frame latency queues frames (order kept: a frame never overtakes the one before it), drop-stream ends the
// socket without a close frame right after the N-th frame reached the wire, and close-stream closes it with
// its code a set time after it opened.
import { Route } from '../protocol/routes.js';
import type { ConversationState, FaultNote, FaultPlan } from './plan.js';

/** The part of a ws WebSocket the tap uses. */
export interface TapSocket {
  readonly readyState: number;
  send(data: string | Buffer, opts: { binary: boolean }, cb?: (err?: Error) => void): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  once(event: 'close', listener: () => void): unknown;
}

export interface StreamTapHooks {
  /** The tap is about to drop (1006) or close (code) the socket because of `note` (the recorder notes it in the cassette). */
  onFaultClose?: (code: number, note: FaultNote) => void;
}

const OPEN = 1;

export class StreamTap {
  private frames = 0;
  private lastDue = 0;
  private queued = 0;
  private ended = false;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly plan: FaultPlan,
    private readonly c: ConversationState,
    /** This conversation's live stream number (1 = first). */
    readonly socket: number,
    private readonly ws: TapSocket,
    private readonly hooks: StreamTapHooks,
  ) {
    for (const { rule } of plan.rulesOf('close-stream')) {
      if (rule.socket !== socket) continue;
      this.timer(rule.afterMs, () => {
        if (this.ended || ws.readyState !== OPEN) return;
        plan.record(rule, c, { route: Route.stream, socket, code: rule.code });
        this.end(rule.code, { rule: rule.text });
      });
    }
    ws.once('close', () => {
      this.ended = true;
      this.cancelTimers();
    });
  }

  /** Sends one server frame (now, or after the frame latency in force). */
  send(payload: string | Buffer, binary: boolean, cb?: (err?: Error) => void): void {
    if (this.ended) return;
    if (!this.plan.active && this.queued === 0) {
      this.write(payload, binary, cb);
      return;
    }
    let delay = 0;
    for (const a of this.plan.rulesOf('latency')) {
      if (a.rule.route !== null) continue;
      const d = this.plan.delayOf(this.c, a);
      delay += d;
      this.plan.record(a.rule, this.c, { route: Route.stream, socket: this.socket, delayMs: d });
    }
    const now = this.plan.now();
    if (delay <= 0 && this.queued === 0) {
      this.write(payload, binary, cb);
      return;
    }
    const due = Math.max(now + delay, this.lastDue);
    this.lastDue = due;
    this.queued++;
    this.timer(due - now, () => {
      this.queued--;
      this.write(payload, binary, cb);
    });
  }

  /** Runs `fn` once every frame queued so far has gone out (a recorded close must not cut delayed frames off). */
  after(fn: () => void): void {
    if (this.queued === 0) {
      fn();
      return;
    }
    this.timer(Math.max(0, this.lastDue - this.plan.now()), fn);
  }

  cancelTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.queued = 0;
  }

  private write(payload: string | Buffer, binary: boolean, cb?: (err?: Error) => void): void {
    if (this.ended || this.ws.readyState !== OPEN) return;
    const n = ++this.frames;
    const drop = this.plan.active && this.plan.rulesOf('drop-stream').find(({ rule }) => rule.socket === this.socket && rule.frame === n);
    if (!drop) {
      this.ws.send(payload, { binary }, cb);
      return;
    }
    this.plan.record(drop.rule, this.c, { route: Route.stream, socket: this.socket, frame: n, code: 1006 });
    this.ended = true;
    // Dropped once the frame reached the wire: the client has it (and its watermark) when the connection dies.
    this.ws.send(payload, { binary }, (err) => {
      cb?.(err);
      this.end(1006, { rule: drop.rule.text });
    });
  }

  private end(code: number, note: FaultNote): void {
    this.ended = true;
    this.cancelTimers();
    this.hooks.onFaultClose?.(code, note);
    if (code === 1006) this.ws.terminate();
    else this.ws.close(code);
  }

  private timer(ms: number, fn: () => void): void {
    const t = setTimeout(
      () => {
        this.timers.delete(t);
        fn();
      },
      Math.max(0, Math.ceil(ms)),
    );
    this.timers.add(t);
  }
}
