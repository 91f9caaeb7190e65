// Causal timing: releases a session's stream items in recorded order, each `delay / speed` ms after the
// live moment of its cause, never before the previous item and never before its cause happened live.
//   release(i) = max(liveTime(cause_i) + delay_i / speed, release(i − 1))
// With speed 0/Infinity ("instant") the delays vanish but the order and the causes still hold.
import { isInstant } from './timing.js';

export interface Schedulable {
  cause: string;
  delay: number;
}

/** The recorded delay of an item as this session waits it (see Session: polls may use an earlier one). */
export type DelayOf<T extends Schedulable> = (item: T) => number;

export type Clock = () => number;

export const monotonicClock: Clock = () => performance.now();

/** An item due within this much counts as due. */
const DUE_MS = 0.05;
/**
 * Timers fire on whole milliseconds and often a millisecond late, so the last stretch before a release is
 * waited with setImmediate (which still lets I/O run): timing error well under a millisecond, at the cost of
 * at most this much polling per release.
 */
const FINE_MS = 2;

export class ReleaseScheduler<T extends Schedulable = Schedulable> {
  private nextIndex = 0;
  private lastTarget = -Infinity;
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private pumping = false;
  private disposed = false;
  private readonly causes = new Map<string, number>();

  constructor(
    private readonly items: readonly T[],
    private readonly speed: number,
    private readonly release: (index: number) => void,
    private readonly clock: Clock = monotonicClock,
    private readonly delayOf: DelayOf<T> = (item) => item.delay,
  ) {}

  /** Re-plans the wait for the next item (the delays it uses changed, e.g. the client chose its path). */
  replan(): void {
    this.pump();
  }

  /** Number of items released so far. */
  get released(): number {
    return this.nextIndex;
  }

  /** When the cause happened live (first time only); undefined while it has not. */
  causeTime(key: string): number | undefined {
    return this.causes.get(key);
  }

  /** Notes that a cause happened live at `time` (default now) and releases whatever became due. */
  causeHappened(key: string, time: number = this.clock()): void {
    if (this.disposed || this.causes.has(key)) return;
    this.causes.set(key, time);
    this.pump();
  }

  dispose(): void {
    this.disposed = true;
    this.cancelWait();
  }

  private cancelWait(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
  }

  private pump(): void {
    if (this.pumping || this.disposed) return;
    this.pumping = true;
    try {
      this.cancelWait();
      const instant = isInstant(this.speed);
      while (this.nextIndex < this.items.length && !this.disposed) {
        const item = this.items[this.nextIndex];
        const causeAt = this.causes.get(item.cause);
        if (causeAt === undefined) return; // everything after an unhappened cause waits
        const target = Math.max(instant ? causeAt : causeAt + this.delayOf(item) / this.speed, this.lastTarget);
        const wait = target - this.clock();
        if (wait > FINE_MS) {
          this.timer = setTimeout(
            () => {
              this.timer = null;
              this.pump();
            },
            Math.floor(wait - FINE_MS / 2),
          );
          return;
        }
        if (wait > DUE_MS) {
          this.immediate = setImmediate(() => {
            this.immediate = null;
            this.pump();
          });
          return;
        }
        this.lastTarget = target;
        const index = this.nextIndex++;
        this.release(index);
      }
    } finally {
      this.pumping = false;
    }
  }
}
