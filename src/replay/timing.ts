// Replay's timing in one place: what a speed means, the recorded waits scaled by it (HTTP replies,
// attachment answers; stream releases use the same rule in scheduler.ts), and replies sent when due.
import type { ServerResponse } from 'node:http';
import { writeReply, type Reply } from './http-io.js';
import type { Clock } from './scheduler.js';

/** Speed 0 or Infinity: no waits at all, the order of things kept. */
export function isInstant(speed: number): boolean {
  return !(speed > 0 && Number.isFinite(speed));
}

/** A recorded duration as replay waits it at this speed. */
export function scaled(durationMs: number, speed: number): number {
  return isInstant(speed) ? 0 : durationMs / speed;
}

/** Sends replies at the live moment they are due; every pending one is cancelled on close(). */
export class ReplyTimer {
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly clock: Clock) {}

  /** Writes the reply at `due` (clock time), at once when that is (almost) now. */
  sendAt(res: ServerResponse, reply: Reply, cors: Record<string, string>, due: number): void {
    const wait = due - this.clock();
    if (wait <= 1) {
      writeReply(res, reply, cors);
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      writeReply(res, reply, cors);
    }, Math.ceil(wait));
    this.timers.add(timer);
    res.on('close', () => {
      clearTimeout(timer);
      this.timers.delete(timer);
    });
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
