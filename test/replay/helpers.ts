// A minimal hand-rolled Direct Line client for the replay tests: fetch for REST, ws for the stream, with
// every frame timestamped so tests can measure order and timing.
import WebSocket from 'ws';
import type { Activity } from '../../src/protocol/types.js';
import { call, type Reply } from '../support/http.js';

export interface Frame {
  at: number;
  text: string;
  json: { activities: Activity[]; watermark?: string } | null;
}

/** A stream client that records every frame with its arrival time. */
export class StreamClient {
  readonly frames: Frame[] = [];
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Set when the upgrade was refused: the HTTP status and body. */
  refused: { status: number; body: string } | null = null;
  private waiters = new Set<() => void>();

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) => {
        let data = '';
        res.on('data', (c: Buffer) => (data += c.toString()));
        res.on('end', () => {
          this.refused = { status: res.statusCode ?? 0, body: data };
          reject(Object.assign(new Error(`upgrade refused with ${res.statusCode}`), { status: res.statusCode, body: data }));
          this.notify();
        });
      });
      this.ws.once('error', (err) => reject(err));
    });
    this.opened.catch(() => {});
    this.closed = new Promise((resolve) =>
      this.ws.once('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        this.notify();
      }),
    );
    this.ws.on('message', (data) => {
      const text = data.toString();
      let json: Frame['json'] = null;
      if (text.trim() !== '') json = JSON.parse(text);
      this.frames.push({ at: performance.now(), text, json });
      this.notify();
    });
  }

  /** Activities received so far, in order. */
  activities(): Activity[] {
    return this.frames.flatMap((f) => f.json?.activities ?? []);
  }

  texts(opts: { typing?: boolean } = {}): string[] {
    return this.activities()
      .filter((a) => opts.typing || a.type !== 'typing')
      .map((a) => a.text ?? `<${a.type}>`);
  }

  lastWatermark(): string | undefined {
    let wm: string | undefined;
    for (const f of this.frames) if (f.json?.watermark) wm = f.json.watermark;
    return wm;
  }

  waitFor(pred: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (pred()) {
          clearTimeout(timer);
          this.waiters.delete(check);
          resolve();
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.texts({ typing: true }))}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** Resolves with the frame time of the first activity with this text. */
  async arrivalOf(text: string, timeoutMs = 5000): Promise<number> {
    await this.waitFor(() => this.frames.some((f) => f.json?.activities.some((a) => a.text === text)), timeoutMs, `"${text}"`);
    return this.frames.find((f) => f.json?.activities.some((a) => a.text === text))!.at;
  }

  close(): void {
    this.ws.close();
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }
}

/** Starts a conversation like DirectLineJS does with a token from tokens/generate. */
export async function startConversation(domain: string, opts: { userId?: string; generate?: boolean; bearer?: string } = {}) {
  const userId = opts.userId ?? 'dl_live-user';
  let bearer = opts.bearer ?? 'live-secret';
  let generated: Reply | null = null;
  if (opts.generate !== false) {
    generated = await call(domain, 'POST', '/tokens/generate', { bearer, body: { user: { id: userId } } });
    bearer = generated.body.token;
  }
  const started = await call(domain, 'POST', '/conversations', { bearer, body: { user: { id: userId }, locale: 'en-US' } });
  return {
    generated,
    started,
    conversationId: started.body.conversationId as string,
    token: started.body.token as string,
    streamUrl: started.body.streamUrl as string,
    userId,
  };
}

/** The body DirectLineJS/Web Chat posts for a user message. */
export function userMessage(text: string, userId: string, clientActivityID: string): Activity {
  return {
    type: 'message',
    text,
    from: { id: userId, name: 'Live User', role: 'user' },
    locale: 'en-US',
    channelData: { clientActivityID },
    channelId: 'webchat',
  };
}
