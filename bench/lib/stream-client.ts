// The benchmark's stream client: connects, says "go", and times every ActivitySet frame it receives
// against the wall-clock stamp the upstream put in it.
import WebSocket from 'ws';
import { stampsOf, wallNow } from './frames.js';

export interface StreamRun {
  received: number;
  /** Frames per second from "go" to the last frame. */
  fps: number;
  seconds: number;
  /** Per-frame latency in ms (receive time − send time at the upstream). */
  latencies: Float64Array;
  outOfOrder: number;
}

export function streamUrl(base: string, conversationId: string, q: { n: number; size: number; rate: number }): string {
  const ws = base.replace(/^http/, 'ws');
  return (
    `${ws}/v3/directline/conversations/${conversationId}/stream?watermark=-&t=bench-stream-token-${conversationId}` +
    `&n=${q.n}&size=${q.size}&rate=${q.rate}`
  );
}

export async function runStream(url: string, n: number, opts: { deflate?: boolean; timeoutMs?: number } = {}): Promise<StreamRun> {
  const ws = new WebSocket(url, { perMessageDeflate: opts.deflate ?? true }); // ws' default: offer permessage-deflate, as browsers do
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`stream refused: ${res.statusCode}`)));
  });
  const latencies = new Float64Array(n);
  let received = 0;
  let lastSeq = 0;
  let outOfOrder = 0;
  const t0 = performance.now();
  let t1 = t0;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`stream: ${received} of ${n} frames after ${opts.timeoutMs ?? 60000} ms`)),
      opts.timeoutMs ?? 60000,
    );
    ws.on('message', (data: Buffer) => {
      const now = wallNow();
      const { seq, sentAt } = stampsOf(data.toString('utf8'));
      if (seq !== lastSeq + 1) outOfOrder++;
      lastSeq = seq;
      latencies[received++] = now - sentAt;
      if (received === n) {
        t1 = performance.now();
        clearTimeout(timer);
        resolve();
      }
    });
    ws.once('close', () => {
      clearTimeout(timer);
      if (received < n) reject(new Error(`stream closed after ${received} of ${n} frames`));
    });
    ws.send('go');
  });
  ws.close(1000, 'done');
  await new Promise<void>((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) resolve();
    else ws.once('close', () => resolve());
  });
  const seconds = (t1 - t0) / 1000;
  return { received, fps: n / seconds, seconds, latencies, outOfOrder };
}
