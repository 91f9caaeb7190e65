// A small load generator for Direct Line: many concurrent conversations against a domain (a replay server,
// or a reverse proxy in front of several), each playing a recorded conversation of a cassette the way
// DirectLineJS does (tokens/generate when recorded, conversations start, the stream or polling, the
// recorded user messages in turn) and checked whole: every recorded bot message text, in order, nothing
// else, no refused request. The report has conversations/s and per-turn latencies.
import WebSocket from 'ws';
import { loadCassette, validateCassette } from '../cassette/load.js';
import type { Cassette } from '../cassette/schema.js';
import { instanceOfConversationId } from '../replay/instance.js';
import { conversationScripts, scriptOf, type ConversationScript } from './script.js';

export type LoadMode = 'websocket' | 'polling' | 'mixed';

export interface LoadOptions {
  /** What a client passes as `domain`: http://host:port/v3/directline. */
  domain: string;
  /** A loaded cassette or a file: the conversations to play (the ones the server replays). */
  cassette: Cassette | string;
  /** Conversations in all. */
  conversations: number;
  /** Conversations at once (default: all of them). */
  concurrency?: number;
  /** How clients get activities; 'mixed' alternates (default 'websocket'). */
  mode?: LoadMode;
  /** Polling clients poll this often (default 250 ms). */
  pollIntervalMs?: number;
  /** A conversation not whole by then fails (default 60 s). */
  conversationTimeoutMs?: number;
  /** No conversation starts after this (default 10 min): the run is bounded in time as well as in count. */
  deadlineMs?: number;
  /** Bearer for tokens/generate (or the start): replay takes any (default 'load-test-secret'). */
  secret?: string;
  /** After its last turn each conversation refreshes its token (tokens/refresh: no conversation in the path). */
  refreshToken?: boolean;
}

export interface Stats {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface ConversationFailure {
  n: number;
  conversationId: string | null;
  mode: 'websocket' | 'polling';
  reason: string;
}

export interface LoadReport {
  conversations: { started: number; whole: number; failed: number; notStarted: number };
  /** Whole conversations per second of the run. */
  conversationsPerSecond: number;
  seconds: number;
  /** tokens/generate + conversations start (ms). */
  startMs: Stats;
  /** A user message's POST to the last bot reply it brought (ms). */
  turnMs: Stats;
  /** One whole conversation (ms). */
  conversationMs: Stats;
  /** Whole conversations by the replay instance their id names (`replay --instance`); '-' for none. */
  byInstance: Record<string, number>;
  byMode: { websocket: number; polling: number };
  /** The first 20 failures. */
  failures: ConversationFailure[];
}

interface Live {
  conversationId: string;
  token: string;
  streamUrl: string | undefined;
}

export async function runLoad(opts: LoadOptions): Promise<LoadReport> {
  const cassette = typeof opts.cassette === 'string' ? await loadCassette(opts.cassette) : validateCassette(opts.cassette);
  const scripts = conversationScripts(cassette, typeof opts.cassette === 'string' ? opts.cassette : undefined);
  const total = opts.conversations;
  if (!Number.isInteger(total) || total < 1) throw new RangeError(`conversations must be a whole number ≥ 1, got ${total}`);
  const concurrency = Math.max(1, Math.min(opts.concurrency ?? total, total));
  const domain = opts.domain.replace(/\/+$/, '');
  const deadline = performance.now() + (opts.deadlineMs ?? 600_000);
  const report: LoadReport = {
    conversations: { started: 0, whole: 0, failed: 0, notStarted: 0 },
    conversationsPerSecond: 0,
    seconds: 0,
    startMs: emptyStats(),
    turnMs: emptyStats(),
    conversationMs: emptyStats(),
    byInstance: {},
    byMode: { websocket: 0, polling: 0 },
    failures: [],
  };
  const startTimes: number[] = [];
  const turnTimes: number[] = [];
  const conversationTimes: number[] = [];
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < total) {
      const n = next++;
      if (performance.now() > deadline) {
        report.conversations.notStarted++;
        continue;
      }
      const mode = opts.mode === 'polling' || (opts.mode === 'mixed' && n % 2 === 1) ? 'polling' : 'websocket';
      report.conversations.started++;
      const client = new ConversationClient(n, mode, domain, scripts, opts);
      const began = performance.now();
      try {
        await client.run(startTimes, turnTimes);
        conversationTimes.push(performance.now() - began);
        report.conversations.whole++;
        report.byMode[mode]++;
        const instance = instanceOfConversationId(client.conversationId ?? '') ?? '-';
        report.byInstance[instance] = (report.byInstance[instance] ?? 0) + 1;
      } catch (err) {
        report.conversations.failed++;
        if (report.failures.length < 20)
          report.failures.push({ n, conversationId: client.conversationId, mode, reason: (err as Error).message });
      } finally {
        client.stop();
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  report.seconds = (performance.now() - t0) / 1000;
  report.conversationsPerSecond = report.conversations.whole / report.seconds;
  report.startMs = stats(startTimes);
  report.turnMs = stats(turnTimes);
  report.conversationMs = stats(conversationTimes);
  return report;
}

/** One conversation: its transport, what arrived, and the checks. */
class ConversationClient {
  conversationId: string | null = null;
  private readonly userId: string;
  private readonly botTexts: Array<{ text: string; at: number }> = [];
  private readonly seen = new Set<string>();
  private ws: WebSocket | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private failure: Error | null = null;
  private wake: (() => void) | null = null;

  constructor(
    private readonly n: number,
    private readonly mode: 'websocket' | 'polling',
    private readonly domain: string,
    private readonly scripts: ConversationScript[],
    private readonly opts: LoadOptions,
  ) {
    this.userId = `load-user-${n}`;
  }

  async run(startTimes: number[], turnTimes: number[]): Promise<void> {
    const timeoutMs = this.opts.conversationTimeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`not whole after ${timeoutMs} ms; bot texts so far: ${JSON.stringify(this.botTexts.map((b) => b.text))}`)),
        timeoutMs,
      );
    });
    try {
      await Promise.race([this.play(startTimes, turnTimes), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.ws?.close();
    this.ws = null;
  }

  private async play(startTimes: number[], turnTimes: number[]): Promise<void> {
    const t = performance.now();
    const live = await this.start();
    startTimes.push(performance.now() - t);
    this.conversationId = live.conversationId;
    const script = scriptOf(this.scripts, live.conversationId);
    if (!script)
      throw new Error(`conversation id ${live.conversationId} names none of the cassette's conversations (${recordedIds(this.scripts)})`);
    if (this.mode === 'websocket') await this.openStream(live);
    else this.poll(live);
    const expected: string[] = [];
    for (const [i, turn] of script.turns.entries()) {
      const sentAt = performance.now();
      if (turn.say !== null) {
        const res = await this.call('POST', `/conversations/${encodeURIComponent(live.conversationId)}/activities`, live.token, {
          type: 'message',
          text: turn.say,
          from: { id: this.userId, name: 'Load User', role: 'user' },
          locale: 'en-US',
          channelData: { clientActivityID: `load-${this.n}-${i}` },
        });
        if (res.status !== 200) throw new Error(`posting "${turn.say}" got ${res.status}: ${res.text.slice(0, 300)}`);
      }
      expected.push(...turn.replies);
      await this.until(expected.length);
      if (turn.say !== null) turnTimes.push((this.botTexts[expected.length - 1]?.at ?? performance.now()) - sentAt);
    }
    const got = this.botTexts.map((b) => b.text);
    if (JSON.stringify(got) !== JSON.stringify(expected))
      throw new Error(`bot texts ${JSON.stringify(got)}, recorded ${JSON.stringify(expected)}`);
    if (this.opts.refreshToken) {
      const res = await this.call('POST', '/tokens/refresh', live.token);
      if (res.status !== 200 || (res.json as { conversationId?: string } | undefined)?.conversationId !== live.conversationId) {
        throw new Error(`tokens/refresh got ${res.status}: ${res.text.slice(0, 300)}`);
      }
    }
  }

  private async start(): Promise<Live> {
    const secret = this.opts.secret ?? 'load-test-secret';
    let bearer = secret;
    const user = { user: { id: this.userId, name: 'Load User' } };
    if (this.scripts.some((s) => s.generatesToken)) {
      const gen = await this.call('POST', '/tokens/generate', secret, user);
      const token = (gen.json as { token?: unknown } | undefined)?.token;
      if (gen.status !== 200 || typeof token !== 'string') throw new Error(`tokens/generate got ${gen.status}: ${gen.text.slice(0, 300)}`);
      bearer = token;
    }
    const res = await this.call('POST', '/conversations', bearer, user);
    const body = res.json as { conversationId?: unknown; token?: unknown; streamUrl?: unknown } | undefined;
    if (res.status !== 201 && res.status !== 200) throw new Error(`conversations start got ${res.status}: ${res.text.slice(0, 300)}`);
    if (typeof body?.conversationId !== 'string')
      throw new Error(`conversations start answered no conversationId: ${res.text.slice(0, 300)}`);
    return {
      conversationId: body.conversationId,
      token: typeof body.token === 'string' ? body.token : bearer,
      streamUrl: typeof body.streamUrl === 'string' ? body.streamUrl : undefined,
    };
  }

  private openStream(live: Live): Promise<void> {
    if (!live.streamUrl) return Promise.reject(new Error('conversations start answered no streamUrl'));
    const ws = new WebSocket(live.streamUrl);
    this.ws = ws;
    ws.on('message', (data: Buffer) => {
      const text = data.toString('utf8');
      if (text.trim() === '') return; // keep-alive
      try {
        this.take((JSON.parse(text) as { activities?: unknown[] }).activities ?? []);
      } catch (err) {
        this.fail(new Error(`a stream frame is no ActivitySet: ${(err as Error).message}`));
      }
    });
    ws.on('close', (code) => {
      if (!this.stopped) this.fail(new Error(`the stream closed early (code ${code})`));
    });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => reject(new Error(`stream upgrade refused with ${res.statusCode}`)));
      ws.once('error', (err) => reject(err));
    });
  }

  private poll(live: Live): void {
    let watermark = '';
    const path = `/conversations/${encodeURIComponent(live.conversationId)}/activities`;
    const once = async () => {
      if (this.stopped) return;
      try {
        const res = await this.call('GET', `${path}?watermark=${encodeURIComponent(watermark)}`, live.token);
        if (res.status !== 200) throw new Error(`polling got ${res.status}: ${res.text.slice(0, 300)}`);
        const set = res.json as { activities?: unknown[]; watermark?: unknown };
        this.take(set.activities ?? []);
        if (typeof set.watermark === 'string') watermark = set.watermark;
      } catch (err) {
        if (!this.stopped) this.fail(err as Error);
        return;
      }
      if (!this.stopped) this.pollTimer = setTimeout(() => void once(), this.opts.pollIntervalMs ?? 250);
    };
    void once();
  }

  private take(activities: unknown[]): void {
    const at = performance.now();
    for (const a of activities as Array<{ id?: unknown; type?: unknown; text?: unknown; from?: { id?: unknown } }>) {
      if (!a || typeof a !== 'object') continue;
      if (typeof a.id === 'string') {
        if (this.seen.has(a.id)) continue;
        this.seen.add(a.id);
      }
      if (a.type === 'message' && typeof a.text === 'string' && a.from?.id !== this.userId) this.botTexts.push({ text: a.text, at });
    }
    this.wake?.();
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.wake?.();
  }

  /** Resolves when `count` bot texts have arrived and match the recorded ones so far. */
  private until(count: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.wake = () => {
        if (this.failure) return reject(this.failure);
        if (this.botTexts.length >= count) {
          this.wake = null;
          resolve();
        }
      };
      this.wake();
    });
  }

  private async call(
    method: string,
    path: string,
    bearer: string,
    body?: unknown,
  ): Promise<{ status: number; text: string; json: unknown }> {
    const res = await fetch(this.domain + path, {
      method,
      headers: { authorization: `Bearer ${bearer}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.opts.conversationTimeoutMs ?? 60_000),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, text, json };
  }
}

function recordedIds(scripts: ConversationScript[]): string {
  return scripts.map((s) => s.recordedId).join(', ');
}

function emptyStats(): Stats {
  return { count: 0, p50: 0, p95: 0, p99: 0, max: 0 };
}

function stats(values: number[]): Stats {
  if (values.length === 0) return emptyStats();
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]);
  return { count: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: round(sorted[sorted.length - 1]) };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
