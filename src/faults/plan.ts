// The fault plan: the rules in force and, per conversation, what they have counted so far (requests, stream
// opens, the token's age). Both servers ask it at the same few places: before a request is matched or
// forwarded (request), on a stream upgrade (upgrade), and for each opened stream (stream: a tap that sees
// every server frame). Everything injected is logged and counted; jitter comes from a seeded generator per
// conversation and rule, so the same rules and seed give the same faults in the same places.
import { Route } from '../protocol/routes.js';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import { deriveSeed, seededRandom } from './random.js';
import { conversationGoneReply, statusReply, tokenExpiredReply, type FaultReply } from './responses.js';
import { parseFaultRule, type FaultKind, type FaultRule } from './rule.js';
import { StreamTap, type StreamTapHooks, type TapSocket } from './stream-tap.js';

export const DEFAULT_FAULT_SEED = 1;

import type { FaultNote } from '../cassette/schema.js';

/** What the cassette notes on an event the client saw differently from the upstream. */
export type { FaultNote };

/** One injected fault, as the stop summary and the API list it. */
export interface InjectedFault {
  rule: string;
  kind: FaultKind;
  /** ISO time it was injected. */
  at: string;
  conversationId: string | null;
  route?: string;
  /** The conversation's live stream number (1 = its first stream). */
  socket?: number;
  status?: number;
  code?: number;
  delayMs?: number;
  frame?: number;
}

export interface FaultSummary {
  /** Faults injected so far. */
  injected: number;
  /** Per rule text. */
  byRule: Record<string, number>;
}

/** An HTTP fault: answered instead of the upstream/cassette (`reply`), or answered as usual but later (`delay`). */
export type RequestFault =
  | { kind: 'reply'; reply: FaultReply; delayMs: number; note: FaultNote }
  | { kind: 'delay'; delayMs: number; note: FaultNote };

export interface FaultPlanOptions {
  /** Seed of the jitter (default 1). */
  seed?: number;
  logger?: Logger;
  /** Milliseconds, monotonic (default performance.now). */
  now?: () => number;
}

interface ActiveRule {
  rule: FaultRule;
  /** Never reused (inject/clear), so each rule keeps its own random sequence. */
  serial: number;
}

/** What the plan knows about one conversation (or, with key '', about requests that belong to none yet). */
export interface ConversationState {
  readonly id: string | null;
  readonly index: number;
  startedAt: number;
  requests: number;
  byRoute: Map<string, number>;
  /** When the current token was issued (start, or the last refresh) and the requests made with it. */
  tokenSince: number;
  tokenRequests: number;
  expired: boolean;
  gone: boolean;
  opens: number;
  sockets: number;
  rngs: Map<number, () => number>;
}

const MAX_LISTED = 10_000;

export class FaultPlan {
  readonly seed: number;
  private rules: ActiveRule[] = [];
  private serial = 0;
  private readonly conversations = new Map<string, ConversationState>();
  private readonly taps = new Set<StreamTap>();
  private readonly list: InjectedFault[] = [];
  private readonly counts = new Map<string, number>();
  private total = 0;
  private readonly logger: Logger;
  readonly now: () => number;

  constructor(rules: readonly (string | FaultRule)[] = [], opts: FaultPlanOptions = {}) {
    this.seed = opts.seed ?? DEFAULT_FAULT_SEED;
    if (!Number.isSafeInteger(this.seed)) throw new RangeError(`the fault seed must be a whole number, got ${String(opts.seed)}`);
    this.logger = opts.logger ?? silentLogger();
    this.now = opts.now ?? (() => performance.now());
    for (const r of rules) this.inject(r);
  }

  /** Adds a rule (checked first: a bad one throws FaultRuleError). Applies from the next request or frame. */
  inject(rule: string | FaultRule): FaultRule {
    const parsed = parseFaultRule(typeof rule === 'string' ? rule : rule.text);
    this.rules.push({ rule: parsed, serial: this.serial++ });
    return parsed;
  }

  /** Removes every rule; expired tokens and gone conversations are valid again, pending stream closes are cancelled. */
  clear(): void {
    this.rules = [];
    for (const c of this.conversations.values()) {
      c.expired = false;
      c.gone = false;
    }
    for (const tap of this.taps) tap.cancelTimers();
  }

  /** Whether any rule is in force (the taps' fast path). */
  get active(): boolean {
    return this.rules.length > 0;
  }

  get ruleTexts(): string[] {
    return this.rules.map((r) => r.rule.text);
  }

  summary(): FaultSummary {
    return { injected: this.total, byRule: Object.fromEntries(this.counts) };
  }

  injected(): InjectedFault[] {
    return [...this.list];
  }

  /** A conversation started now (its clocks for after= start here). */
  started(conversationId: string): void {
    const c = this.state(conversationId);
    c.startedAt = this.now();
    c.tokenSince = c.startedAt;
  }

  /** A conversation that will not be seen again (a replay session let go): its counters and clocks go. */
  forget(conversationId: string): void {
    this.conversations.delete(conversationId);
  }

  /**
   * Before a request is matched (replay) or forwarded (record). `conversationId` is the conversation the
   * request belongs to when known (from its path or its bearer), else null.
   */
  request(route: string, conversationId: string | null): RequestFault | null {
    if (this.rules.length === 0) return null;
    const c = this.state(conversationId);
    const now = this.now();
    if (c.id !== null) {
      c.requests++;
      c.tokenRequests++;
    }
    const nth = (c.byRoute.get(route) ?? 0) + 1;
    c.byRoute.set(route, nth);

    let answer: { reply: FaultReply; rule: FaultRule } | null = null;
    if (c.id !== null) {
      const gone = this.first('conversation-gone', (r) => c.gone || reached(r, c.requests, now - c.startedAt));
      if (gone) {
        c.gone = true;
        answer = { reply: conversationGoneReply(), rule: gone };
      }
      const expire = answer ? undefined : this.first('expire-token', (r) => c.expired || reached(r, c.tokenRequests, now - c.tokenSince));
      if (expire) {
        c.expired = true;
        answer = { reply: tokenExpiredReply(), rule: expire };
      } else if (!answer && route === Route.tokensRefresh) {
        this.refreshed(c, now);
      }
    } else if (route === Route.tokensRefresh) {
      // The recorder cannot tell which conversation a refresh is for (no id in the path): every live token is renewed.
      for (const other of this.conversations.values()) if (other.id !== null && !other.expired) this.refreshed(other, now);
    }
    if (!answer) {
      const s = this.first('status', (r) => r.kind === 'status' && r.route === route && (r.nth === null || r.nth === nth));
      if (s && s.kind === 'status') answer = { reply: statusReply(s.status), rule: s };
    }
    let delayMs = 0;
    const delayRules: string[] = [];
    for (const a of this.rules) {
      const r = a.rule;
      if (r.kind !== 'latency' || r.route !== route) continue;
      const d = this.delayOf(c, a);
      delayMs += d;
      delayRules.push(r.text);
      this.record(r, c, { route, delayMs: d });
    }
    if (answer) {
      this.record(answer.rule, c, { route, status: answer.reply.status });
      return { kind: 'reply', reply: answer.reply, delayMs, note: { rule: answer.rule.text, ...(delayMs ? { delay: delayMs } : {}) } };
    }
    if (delayMs > 0) return { kind: 'delay', delayMs, note: { rule: delayRules.join(' '), delay: delayMs } };
    return null;
  }

  /** A stream upgrade of the conversation: a refusal to answer instead (the upgrade is then not served), or null. */
  upgrade(conversationId: string | null): { reply: FaultReply; note: FaultNote } | null {
    if (this.rules.length === 0) return null;
    const c = this.state(conversationId);
    c.opens++;
    const now = this.now();
    const gone = this.first(
      'conversation-gone',
      (r) => c.gone || (r.kind === 'conversation-gone' && r.afterMs !== null && now - c.startedAt >= r.afterMs),
    );
    if (gone && c.id !== null) {
      c.gone = true;
      return this.refuse(gone, c, conversationGoneReply());
    }
    const expire = this.first(
      'expire-token',
      (r) => c.expired || (r.kind === 'expire-token' && r.afterMs !== null && now - c.tokenSince >= r.afterMs),
    );
    if (expire && c.id !== null) {
      c.expired = true;
      return this.refuse(expire, c, tokenExpiredReply());
    }
    const refuse = this.first('refuse-stream', (r) => r.kind === 'refuse-stream' && r.open === c.opens);
    if (refuse && refuse.kind === 'refuse-stream')
      return this.refuse(refuse, c, refuse.status === 403 ? tokenExpiredReply() : statusReply(refuse.status));
    return null;
  }

  /** Every server frame of an opened stream goes through the returned tap (drops, timed closes, frame latency). */
  stream(conversationId: string | null, ws: TapSocket, hooks: StreamTapHooks = {}): StreamTap {
    const c = this.state(conversationId);
    const socket = ++c.sockets;
    const tap = new StreamTap(this, c, socket, ws, hooks);
    this.taps.add(tap);
    ws.once('close', () => this.taps.delete(tap));
    return tap;
  }

  // ---- used by StreamTap -----------------------------------------------------------------------

  /** Rules of one kind in force now (a tap looks them up per frame, so inject/clear apply at once). */
  rulesOf<K extends FaultKind>(kind: K): Array<{ rule: Extract<FaultRule, { kind: K }>; serial: number }> {
    return this.rules.filter((a) => a.rule.kind === kind) as Array<{ rule: Extract<FaultRule, { kind: K }>; serial: number }>;
  }

  /** One draw of a latency rule's delay for this conversation: ms ± jitter, seeded, never negative. */
  delayOf(c: ConversationState, a: { rule: FaultRule; serial: number }): number {
    if (a.rule.kind !== 'latency') return 0;
    if (a.rule.jitterMs === 0) return a.rule.ms;
    let rng = c.rngs.get(a.serial);
    if (!rng) {
      rng = seededRandom(deriveSeed(this.seed, c.index, a.serial));
      c.rngs.set(a.serial, rng);
    }
    return Math.max(0, Math.round(a.rule.ms + (rng() * 2 - 1) * a.rule.jitterMs));
  }

  /** Logs and counts one injected fault. */
  record(rule: FaultRule, c: ConversationState, detail: Omit<InjectedFault, 'rule' | 'kind' | 'at' | 'conversationId'>): void {
    this.total++;
    this.counts.set(rule.text, (this.counts.get(rule.text) ?? 0) + 1);
    const entry: InjectedFault = { rule: rule.text, kind: rule.kind, at: new Date().toISOString(), conversationId: c.id, ...detail };
    if (this.list.length < MAX_LISTED) this.list.push(entry);
    this.logger.info({ fault: rule.text, ...detail, conversationId: c.id }, `fault injected: ${rule.text}`);
  }

  // ---- internals ---------------------------------------------------------------------------------

  private refuse(rule: FaultRule, c: ConversationState, reply: FaultReply): { reply: FaultReply; note: FaultNote } {
    this.record(rule, c, { route: Route.stream, status: reply.status, socket: c.opens });
    return { reply, note: { rule: rule.text } };
  }

  private refreshed(c: ConversationState, now: number): void {
    c.tokenSince = now;
    c.tokenRequests = 0;
  }

  private first(kind: FaultKind, pred: (r: FaultRule) => boolean): FaultRule | undefined {
    for (const a of this.rules) if (a.rule.kind === kind && pred(a.rule)) return a.rule;
    return undefined;
  }

  private state(conversationId: string | null): ConversationState {
    const key = conversationId ?? '';
    let c = this.conversations.get(key);
    if (!c) {
      const t = this.now();
      c = {
        id: conversationId,
        index: this.conversations.size,
        startedAt: t,
        requests: 0,
        byRoute: new Map(),
        tokenSince: t,
        tokenRequests: 0,
        expired: false,
        gone: false,
        opens: 0,
        sockets: 0,
        rngs: new Map(),
      };
      this.conversations.set(key, c);
    }
    return c;
  }
}

/** Whether an expire-token/conversation-gone rule's moment has come: its request count or its time. */
function reached(r: FaultRule, requests: number, elapsedMs: number): boolean {
  if (r.kind !== 'expire-token' && r.kind !== 'conversation-gone') return false;
  return (r.request !== null && requests >= r.request) || (r.afterMs !== null && elapsedMs >= r.afterMs);
}
