// A WebSocket client for the reliability suite that timestamps every frame (keep-alives included) and
// keeps the close it saw. Every wait is bounded in time.
import WebSocket from 'ws';

export interface Frame {
  at: number;
  text: string;
}

/** A ws client keeping every frame (keep-alives included) with its arrival time, and the close it saw. */
export class Stream {
  readonly frames: Frame[] = [];
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string; at: number }>;
  private readonly waiters = new Set<() => void>();

  constructor(url: string, opts: WebSocket.ClientOptions = {}) {
    this.ws = new WebSocket(url, opts);
    this.ws.on('error', () => {}); // outcomes are read from 'close' / 'unexpected-response'
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () =>
          reject(Object.assign(new Error(`upgrade refused with ${res.statusCode}: ${body}`), { status: res.statusCode, body })),
        );
        res.on('error', () => reject(new Error(`upgrade refused with ${res.statusCode}`)));
      });
      this.ws.once('close', () => reject(new Error('closed before it opened')));
    });
    this.opened.catch(() => {});
    this.closed = new Promise((resolve) =>
      this.ws.once('close', (code, reason) => {
        resolve({ code, reason: reason.toString(), at: performance.now() });
        this.notify();
      }),
    );
    this.ws.on('message', (data) => {
      this.frames.push({ at: performance.now(), text: data.toString() });
      this.notify();
    });
  }

  static async open(url: string, opts: WebSocket.ClientOptions = {}): Promise<Stream> {
    const s = new Stream(url, opts);
    await s.opened;
    return s;
  }

  activities(): any[] {
    const out: any[] = [];
    for (const f of this.frames) if (f.text.trim() !== '') out.push(...(JSON.parse(f.text).activities ?? []));
    return out;
  }

  private readonly counted = new Map<string, { upTo: number; n: number }>();

  /** Frames containing `text` (incremental: each frame is scanned once per needle). */
  count(text: string): number {
    let c = this.counted.get(text);
    if (!c) {
      c = { upTo: 0, n: 0 };
      this.counted.set(text, c);
    }
    for (; c.upTo < this.frames.length; c.upTo++) if (this.frames[c.upTo]!.text.includes(text)) c.n++;
    return c.n;
  }

  waitFor(pred: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!pred()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${what}; ${this.frames.length} frames, ` +
              `last ${JSON.stringify(this.frames.at(-1)?.text.slice(0, 200))}`,
          ),
        );
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** Closes (terminating after 1 s) and waits for the close. */
  async close(code = 1000): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(code);
    else if (this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
    const timer = setTimeout(() => this.ws.terminate(), 1000);
    await this.closed;
    clearTimeout(timer);
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }
}
