// Re-drives the user side of recorded conversations against a live Direct Line (through our recorder):
// the recorded requests in order with live credentials, conversation ids and stream URLs in place of the
// recorded ones, and before each activity the user sent, a wait until the bot has answered the previous
// one as many times as recorded, or has been quiet for `settleMs`.
import WebSocket from 'ws';
import type { Logger } from 'pino';
import { decodeBody } from '../cassette/body.js';
import { isPlaceholder, placeholderKind } from '../cassette/placeholders.js';
import { bodyJson } from '../model/index.js';
import { Route } from '../protocol/routes.js';
import type { Activity } from '../protocol/types.js';
import { isActivitySet } from '../protocol/types.js';
import type { ConversationPlan, HttpStep, OpenStep } from './plan.js';

export interface Credentials {
  secret?: string;
  token?: string;
}

export interface DriveOptions {
  /** What the client uses as `domain` (the recorder's). */
  domain: string;
  credentials: Credentials;
  /** Quiet period (ms) after which the bot is taken to have answered; default 3000. */
  settleMs: number;
  /** Polling interval (ms) for conversations that were recorded polling; default 250. */
  pollMs?: number;
  /** Recorded bot replies per turn of this conversation (index = turn). */
  expectedReplies: number[];
  logger: Logger;
}

export class VerifyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VerifyError';
  }
}

/** How long one request may take (the service gives up on a bot after ~15 s). */
const REQUEST_TIMEOUT_MS = 30_000;

/** One recorded conversation being re-driven. */
export class LiveConversation {
  /** Recorded placeholder or id → the live value that replaced it. */
  private readonly live = new Map<string, string>();
  private liveId: string | null = null;
  /** The newest conversation token the live service handed out (polls use it, as a client would). */
  private currentToken: string | undefined;
  private watermark: string | undefined;
  private readonly sockets = new Map<number, WebSocket>();
  private readonly seen = new Set<string>();
  private readonly echoIds = new Set<string>();
  /** Bot activities as they arrive: arrival time. */
  private readonly botArrivals: number[] = [];
  private polling: NodeJS.Timeout | null = null;
  private pollInFlight: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly plan: ConversationPlan,
    private readonly opts: DriveOptions,
  ) {}

  async run(): Promise<void> {
    // Turn 0 (the welcome) begins with the start; turn n with the n-th activity the user sent. The driver
    // waits for a turn's answers before the next send, and before a client close (the recording closed
    // after the answers came); the last turn also gets a short quiet wait, so extra answers are caught.
    const lastTurn = Math.max(0, ...this.plan.steps.map((s) => (s.kind === 'http' && s.turn !== undefined ? s.turn : 0)));
    let pending: { turn: number; arrivals: number } | null = null;
    const answered = async () => {
      if (!pending) return;
      await this.waitForAnswers(pending.turn, pending.arrivals, pending.turn === lastTurn);
      pending = null;
    };
    try {
      for (const step of this.plan.steps) {
        if (step.kind === 'http' && step.turn !== undefined) {
          await answered();
          pending = { turn: step.turn, arrivals: this.botArrivals.length };
          await this.send(step);
        } else if (step.kind === 'http') {
          const before = this.botArrivals.length;
          await this.send(step);
          if (
            step.route === Route.conversationsStart &&
            step === this.plan.steps.find((s) => s.kind === 'http' && s.route === Route.conversationsStart)
          ) {
            pending = { turn: 0, arrivals: before };
          }
        } else if (step.kind === 'open') {
          await this.open(step);
        } else if (step.kind === 'close') {
          await answered();
          this.sockets.get(step.socket)?.close(validCloseCode(step.code), step.reason);
          this.sockets.delete(step.socket);
        } else {
          this.startPolling();
        }
      }
      await answered();
      this.opts.logger.debug({ conversation: this.plan.ordinal + 1, turns: lastTurn }, 'conversation re-driven');
    } finally {
      await this.stop();
    }
  }

  /**
   * Until the turn has as many bot answers as recorded, or the bot has been quiet for settleMs; the last turn also gets a
   * short quiet wait for extra answers.
   */
  private async waitForAnswers(turn: number, arrivalsBefore: number, last = false): Promise<void> {
    const expected = this.opts.expectedReplies[turn] ?? 0;
    const settle = this.opts.settleMs;
    const quietAfterLast = Math.min(settle, 1000);
    const started = Date.now();
    for (;;) {
      const got = this.botArrivals.length - arrivalsBefore;
      const lastArrival = got > 0 ? this.botArrivals[this.botArrivals.length - 1] : started;
      const quiet = Date.now() - lastArrival;
      if (got >= expected && (!last || quiet >= quietAfterLast)) return;
      if (quiet >= settle) return;
      await sleep(Math.min(50, settle));
    }
  }

  private async send(step: HttpStep): Promise<void> {
    if (step.route === Route.tokensGenerate && !this.opts.credentials.secret) {
      // Only a token was given: it stands for the one this call returned.
      this.learnFromToken(step);
      return;
    }
    const url = new URL(this.opts.domain + this.liveText(step.subPath));
    for (const [k, v] of Object.entries(step.query)) {
      if (k === 'watermark') {
        if (v !== '' && v !== '-' && this.watermark !== undefined) url.searchParams.set(k, this.watermark);
        else url.searchParams.set(k, v);
      } else {
        url.searchParams.set(k, this.liveText(v));
      }
    }
    const headers: Record<string, string> = { ...step.headers, 'x-ms-bot-agent': 'DirectLine/3.0 (directline-vcr verify)' };
    const auth = step.authorization ? this.liveAuthorization(step.authorization) : undefined;
    if (auth) headers.authorization = auth;
    let body: Blob | undefined;
    if (step.body) {
      const json = bodyJson(step.body);
      const bytes =
        json !== undefined && !('base64' in step.body) ? Buffer.from(JSON.stringify(this.liveJson(json))) : decodeBody(step.body);
      body = new Blob([new Uint8Array(bytes)]);
    }
    let res: Response;
    try {
      res = await fetch(url, { method: step.method, headers, body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    } catch (err) {
      throw new VerifyError(`conversation ${this.plan.ordinal + 1}: ${step.route} failed: ${(err as Error).message}`);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    this.opts.logger.debug({ route: step.route, status: res.status }, `verify: ${step.route} answered ${res.status}`);
    if (res.ok && json !== undefined) this.learn(bodyJson(step.recordedResponse), json);
    if (isObject(json) && typeof json.id === 'string' && step.turn !== undefined) this.echoIds.add(json.id);
  }

  /** A recorded response and its live twin: each placeholder and id learns its live value. */
  private learn(recorded: unknown, live: unknown, key = ''): void {
    if (typeof recorded === 'string' && typeof live === 'string') {
      if (key === 'conversationId') {
        this.liveId = live;
        if (recorded !== live) this.live.set(recorded, live);
      } else if (key === 'streamUrl') {
        const t = new URL(recorded, 'ws://x').searchParams.get('t');
        if (t) this.live.set(`stream:${t}`, live);
        this.live.set('stream:latest', live);
      } else if (isPlaceholder(recorded)) {
        this.live.set(recorded, live);
        if (key === 'token') this.currentToken = live;
      }
      return;
    }
    if (isObject(recorded) && isObject(live))
      for (const k of Object.keys(recorded)) if (Object.hasOwn(live, k)) this.learn(recorded[k], live[k], k);
  }

  /** With only a token: the conversation it belongs to is the one a start with it reports. */
  private learnFromToken(step: HttpStep): void {
    const recorded = bodyJson(step.recordedResponse);
    if (isObject(recorded) && typeof recorded.token === 'string') this.live.set(recorded.token, this.opts.credentials.token!);
    this.currentToken = this.opts.credentials.token;
  }

  private liveAuthorization(recorded: string): string | undefined {
    const m = /^(\w+)\s+(.+)$/.exec(recorded);
    if (!m) return undefined;
    const value = m[2].trim();
    const learnt = this.live.get(value);
    if (learnt) return `${m[1]} ${learnt}`;
    const { secret, token } = this.opts.credentials;
    const isSecret = placeholderKind(value) === 'secret';
    const cred = isSecret ? (secret ?? token) : (token ?? secret);
    return cred ? `${m[1]} ${cred}` : undefined;
  }

  /** Recorded conversation ids in a path, query or body become the live ones. */
  private liveText(s: string): string {
    const recorded = this.plan.recordedId;
    if (!recorded || !this.liveId || recorded === this.liveId) return s;
    return s.split(encodeURIComponent(recorded)).join(encodeURIComponent(this.liveId)).split(recorded).join(this.liveId);
  }

  private liveJson(v: unknown, depth = 0): unknown {
    if (typeof v === 'string') return this.liveText(v);
    if (v === null || typeof v !== 'object' || depth > 256) return v;
    if (Array.isArray(v)) return v.map((x) => this.liveJson(x, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v))
      Object.defineProperty(out, k, { value: this.liveJson(x, depth + 1), enumerable: true, writable: true, configurable: true });
    return out;
  }

  private async open(step: OpenStep): Promise<void> {
    const url = (step.streamToken && this.live.get(`stream:${step.streamToken}`)) || this.live.get('stream:latest');
    if (!url)
      throw new VerifyError(
        `conversation ${this.plan.ordinal + 1}: the recording opened a stream, but no live start or reconnect gave a streamUrl`,
      );
    const ws = new WebSocket(url);
    this.sockets.set(step.socket, ws);
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const text = data.toString();
      if (text.trim() === '') return;
      try {
        this.receive(JSON.parse(text));
      } catch {
        /* not JSON: nothing to count */
      }
    });
    ws.on('error', (err) => this.opts.logger.warn({ err: err.message }, 'verify: stream error'));
    await new Promise<void>((resolve) => {
      ws.once('open', () => resolve());
      ws.once('error', () => resolve());
      ws.once('unexpected-response', () => resolve());
      ws.once('close', () => resolve());
    });
  }

  private startPolling(): void {
    if (this.polling) return;
    const tick = () => {
      if (this.closed) return;
      this.pollInFlight = this.poll().finally(() => {
        this.pollInFlight = null;
        if (!this.closed) this.polling = setTimeout(tick, this.opts.pollMs ?? 250);
      });
    };
    this.polling = setTimeout(tick, 0);
  }

  private async poll(): Promise<void> {
    if (!this.liveId) return;
    const url = new URL(`${this.opts.domain}/conversations/${encodeURIComponent(this.liveId)}/activities`);
    url.searchParams.set('watermark', this.watermark ?? '');
    const cred = this.currentToken ?? this.opts.credentials.secret ?? this.opts.credentials.token;
    try {
      const res = await fetch(url, {
        headers: cred ? { authorization: `Bearer ${cred}` } : {},
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      if (res.ok) this.receive(await res.json());
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message }, 'verify: poll failed');
    }
  }

  /** An ActivitySet from the stream or a poll: new bot activities count as answers. */
  private receive(set: unknown): void {
    if (!isActivitySet(set)) return;
    if (typeof set.watermark === 'string' && set.watermark !== '') this.watermark = set.watermark;
    for (const a of set.activities as Activity[]) {
      if (!a || typeof a !== 'object') continue;
      if (typeof a.id === 'string') {
        if (this.seen.has(a.id)) continue;
        this.seen.add(a.id);
        if (this.echoIds.has(a.id)) continue;
      }
      if (a.from?.role === 'user') continue;
      this.botArrivals.push(Date.now());
    }
  }

  private async stop(): Promise<void> {
    this.closed = true;
    if (this.polling) clearTimeout(this.polling);
    await this.pollInFlight;
    await Promise.all(
      [...this.sockets.values()].map(
        (ws) =>
          new Promise<void>((resolve) => {
            if (ws.readyState === WebSocket.CLOSED) return resolve();
            ws.once('close', () => resolve());
            ws.close(1000);
            setTimeout(() => {
              ws.terminate();
              resolve();
            }, 2000).unref();
          }),
      ),
    );
    this.sockets.clear();
  }
}

/** A close code a client may send (1000, 3000–4999); the rest (1005: "no status") become a plain close. */
function validCloseCode(code: number): number | undefined {
  return code === 1000 || (code >= 3000 && code <= 4999) ? code : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
