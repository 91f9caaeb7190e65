// One replaying client: a live conversation over one recorded conversation. It matches the client's
// requests to the recorded ones (in order, per route), answers them with the recorded responses after the
// recorded latency, releases the recorded activities causally (scheduler.ts) into one activity log that
// both polls and streams (stream.ts) read, and substitutes recorded values with this session's own.
import { randomBytes } from 'node:crypto';
import type { Logger } from '../log.js';
import type { HttpEvent } from '../cassette/schema.js';
import { decodeBody } from '../cassette/body.js';
import { errorBody } from '../protocol/errors.js';
import type { Activity, ChannelAccount } from '../protocol/types.js';
import {
  ATTACH_CAUSE,
  SESSION_CAUSE,
  httpCause,
  type ActivitiesItem,
  type ConversationModel,
  type LogEntry,
  type RecordedRequest,
  type StreamItem,
} from './conversation-model.js';
import { keptHeaders, jsonReply, sharedHeaders, type Reply } from './http-io.js';
import { userIdOfStartBody } from '../model/index.js';
import { Route, routePolicy, type RouteName } from '../protocol/routes.js';
import { matchDecision, shapeOf, shapeOfRecorded, type MatchMode, type RequestShape } from './matcher.js';
import { ReleaseScheduler, type Clock } from './scheduler.js';
import { scaled } from './timing.js';
import { Substituter } from './substitute.js';
import { mintToken, type SyntheticKind } from './tokens.js';
import { liveConversationId } from './instance.js';
import { replyTemplateOf, templateOf, type TemplateFill } from './frame-template.js';
import { mayHoldPlaceholder, type PlaceholderKind } from '../cassette/placeholders.js';

/** A live request, as the server hands it to a session. */
export interface LiveRequest {
  method: string;
  path: string;
  route: RouteName;
  /** The query string's parameters (URLSearchParams, or the RequestTarget the server parsed lazily). */
  query: Pick<URLSearchParams, 'get'>;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** Clock time the request arrived (the live time of the cause it may be). */
  arrival: number;
  /** Origin for streamUrls in the reply (ws://host:port). */
  wsOrigin: string;
}

export type Outcome =
  | { kind: 'reply'; reply: Reply; delay: number; matched: HttpEvent | null; quiet: boolean }
  | { kind: 'mismatch'; status: number; reason: string; expected: HttpEvent | null; shape: RequestShape };

/** What a session needs from the replayer around it. */
export interface SessionContext {
  basePath: string;
  speed: number;
  logger: Logger;
  clock: Clock;
  /** Makes a synthetic bearer findable: later requests without a conversation id in the path find the session by it. */
  registerToken: (token: string, session: Session) => void;
  /** Called when an item is released (the stream hub delivers it). */
  onRelease: (session: Session, item: StreamItem, index: number) => void;
  /** Whether a recorded URL is on the recorded upstream's origin (its attachment URLs are served here). */
  isUpstreamUrl?: (url: string) => boolean;
  /** What a recorded placeholder stands for (the cassette's `redaction.placeholders`); undefined for other values. */
  placeholderKind: (placeholder: string) => PlaceholderKind | undefined;
  /** This process's instance id (`replay --instance`): carried by the ids and tokens it mints (instance.ts). */
  instance?: string;
  /** How posted messages must match (default strict; loose is for demos). */
  match?: MatchMode;
}

/** The live client's own values that its echo carries (Web Chat waits for its clientActivityID: docs/protocol.md#echo). */
interface LiveEcho {
  channelData: unknown;
  from: ChannelAccount | undefined;
  text: unknown;
  value: unknown;
}

export class Session {
  readonly liveId: string | null;
  readonly subst: Substituter;
  readonly scheduler: ReleaseScheduler<StreamItem>;
  /** How the live client gets activities: set by its first poll or stream open (polls may be served earlier). */
  private path: 'poll' | 'stream' | null = null;
  /** Log entries [0, releasedEntries) have been released. */
  releasedEntries = 0;
  /** When each released entry went out live: its `timestamp`, as the service stamps on delivery. */
  private readonly releasedAt = new Map<number, string>();
  private readonly cursors = new Map<string, number>();
  private typingCursor = 0;
  private readonly synthetic = new Map<string, string>();
  private readonly echoes = new Map<string, LiveEcho>();
  private wsOrigin = '';
  private closed = false;
  private templateFill: TemplateFill | null = null;
  private readonly isUpstreamUrl = (url: string): boolean => this.ctx.isUpstreamUrl?.(url) ?? false;

  /** `liveId`: the id a resuming client already uses (see resume()); otherwise one is made for this session. */
  constructor(
    readonly n: number,
    readonly model: ConversationModel,
    private readonly ctx: SessionContext,
    liveId?: string,
  ) {
    this.liveId = liveId ?? (model.recordedId === null ? null : liveConversationId(model.recordedId, n, ctx.instance));
    this.subst = new Substituter({
      recordedConversationId: model.recordedId,
      liveConversationId: this.liveId,
      recordedUserId: model.userId,
      token: (recorded) => this.tokenFor(recorded),
      streamUrl: (recorded, watermark) => this.streamUrl(recorded, watermark),
      attachmentUrl: (recorded) => this.attachmentUrl(recorded),
    });
    this.scheduler = new ReleaseScheduler(
      model.items,
      ctx.speed,
      (i) => this.release(i),
      ctx.clock,
      (item) => this.delayOf(item),
    );
  }

  /** Starts the clock of causes: items recorded before any client action count from here. */
  begin(time: number): void {
    this.scheduler.causeHappened(SESSION_CAUSE, time);
  }

  /** The live client polled or opened a stream; the first time is the 'attach' cause, and picks the path. */
  attach(time: number, via: 'poll' | 'stream'): void {
    if (this.path === null) {
      this.path = via;
      this.scheduler.replan();
    }
    this.scheduler.causeHappened(ATTACH_CAUSE, time);
  }

  private delayOf(item: StreamItem): number {
    return this.path === 'poll' && item.kind === 'activities' && item.earliest !== undefined ? item.earliest : item.delay;
  }

  /**
   * A client resumes a conversation it started earlier (its first request here is a reconnect, a poll or a
   * stream open): the recorded requests that opened the conversation are taken as done, so what followed them
   * is released as the client asks; the client's watermark then says where it continues.
   */
  resume(time: number): void {
    this.begin(time);
    for (const [route, queue] of this.model.requests) {
      if (routePolicy(route).opensSession !== 'new') continue;
      for (let i = this.cursors.get(route) ?? 0; i < queue.length && queue[i].index < this.firstFollowUp(); i++) this.skip(route);
    }
  }

  /** Index in cassette.events of the first recorded request that is not one that opens a conversation. */
  private firstFollowUp(): number {
    let first = Infinity;
    for (const [route, queue] of this.model.requests) {
      if (routePolicy(route).opensSession !== 'new' && queue.length) first = Math.min(first, queue[0].index);
    }
    for (const r of this.model.typingPosts.slice(0, 1)) first = Math.min(first, r.index);
    return first;
  }

  /** Marks the next recorded request of a route as used without a live request (see Catalog.nextSkippingGenerate). */
  skip(route: RouteName): void {
    const position = this.cursors.get(route) ?? 0;
    const recorded = this.model.requests.get(route)?.[position];
    if (!recorded) return;
    this.cursors.set(route, position + 1);
    this.scheduler.causeHappened(httpCause(recorded.index));
  }

  close(): void {
    this.closed = true;
    this.scheduler.dispose();
  }

  handle(req: LiveRequest): Outcome {
    this.wsOrigin = req.wsOrigin;
    switch (routePolicy(req.route).replay) {
      case 'activityLog':
        return this.poll(req);
      case 'recordedOrSynthesized':
        return this.nextRecorded(req) ?? this.synthesize(req);
      default:
        return this.matchStrict(req);
    }
  }

  // ---- matching -------------------------------------------------------------------------------

  /** The next unused recorded request of this route, which must match the live one. */
  private matchStrict(req: LiveRequest): Outcome {
    const shape = shapeOf(req.route, req.body, header(req, 'content-type'), header(req, 'content-disposition'));
    const typing = routePolicy(req.route).match === 'activity' && shape.summary?.type === 'typing';
    if (typing) return this.matchTyping(req, shape);
    const queue = this.model.requests.get(req.route) ?? [];
    const position = this.cursors.get(req.route) ?? 0;
    const recorded = queue[position];
    // The service answers a start repeated with the token that started the conversation with 200 and the same
    // conversation (a page reloaded with its token): so does replay, and nothing recorded is used up.
    if (!recorded && queue.length > 0 && req.route === Route.conversationsStart) return this.repeatStart(req, queue[queue.length - 1]);
    if (!recorded) {
      const reason =
        queue.length === 0
          ? `the recorded conversation has no ${req.route} request`
          : `all ${queue.length} recorded ${req.route} request(s) of this conversation were already used`;
      return { kind: 'mismatch', status: 404, reason, expected: null, shape };
    }
    const why = matchDecision(req.route, shape, shapeOfRecorded(recorded.ev), this.ctx.match ?? 'strict');
    if (why !== null) return { kind: 'mismatch', status: 400, reason: why, expected: recorded.ev, shape };
    this.cursors.set(req.route, position + 1);
    return this.accept(req, recorded, shape);
  }

  /**
   * A posted `typing` activity is matched against the next recorded typing post wherever it is: clients send
   * them at their own pace. One the recording lacks is acknowledged with a fresh id (logged at debug).
   */
  private matchTyping(req: LiveRequest, shape: RequestShape): Outcome {
    const recorded = this.model.typingPosts[this.typingCursor];
    if (recorded) {
      this.typingCursor++;
      return this.accept(req, recorded, shape);
    }
    this.learnUser(req, shape);
    const id = `${this.liveId}|vcr-typing-${randomBytes(4).toString('hex')}`;
    return { kind: 'reply', reply: jsonReply(200, { id }), delay: 0, matched: null, quiet: true };
  }

  /** Reconnect, refresh and getsessionid: the next recorded one when any is left. */
  private nextRecorded(req: LiveRequest): Outcome | null {
    const queue = this.model.requests.get(req.route) ?? [];
    const position = this.cursors.get(req.route) ?? 0;
    const recorded = queue[position];
    if (!recorded) return null;
    this.cursors.set(req.route, position + 1);
    return this.accept(req, recorded, {});
  }

  private accept(req: LiveRequest, recorded: RecordedRequest, shape: RequestShape): Outcome {
    this.learnUser(req, shape);
    // The echo mapping goes in before the cause is noted: noting it may release the echo at once.
    const echoId = this.model.echoOf.get(recorded.index);
    if (echoId !== undefined && shape.activity) this.echoes.set(echoId, liveEchoOf(shape.activity));
    this.scheduler.causeHappened(httpCause(recorded.index), req.arrival);
    const watermark = req.route === Route.conversationsReconnect ? nonEmpty(req.query.get('watermark')) : undefined;
    const ev = recorded.ev;
    return { kind: 'reply', reply: this.recordedReply(ev, watermark), delay: this.wait(ev.duration), matched: ev, quiet: false };
  }

  private repeatStart(req: LiveRequest, recorded: RecordedRequest): Outcome {
    const reply = this.recordedReply(recorded.ev, undefined);
    const json = reply.body.length ? (parseJson(Buffer.from(reply.body)) as Record<string, unknown> | undefined) : undefined;
    const body: Record<string, unknown> = { ...(json ?? {}), conversationId: this.liveId };
    body.streamUrl = this.buildStreamUrl('-', this.freshToken('streamToken'), []);
    const payload = JSON.stringify(body);
    this.ctx.logger.info({ route: req.route, session: this.n }, 'start repeated with the same token: 200 and the same conversation');
    return { kind: 'reply', reply: { ...reply, status: 200, body: payload }, delay: 0, matched: null, quiet: false };
  }

  /** Reconnect/refresh beyond the recording (clients call them on timers: docs/protocol.md#replay): fresh credentials. */
  private synthesize(req: LiveRequest): Outcome {
    let body: Record<string, unknown>;
    if (req.route === Route.sessionGetSessionId) {
      body = { sessionId: randomBytes(16).toString('hex') };
    } else {
      body = { conversationId: this.liveId, token: this.freshToken('token'), expires_in: 3600 };
      if (req.route === Route.conversationsReconnect)
        body.streamUrl = this.buildStreamUrl(nonEmpty(req.query.get('watermark')) ?? '-', this.freshToken('streamToken'), []);
    }
    this.ctx.logger.debug({ route: req.route, session: this.n }, 'no recorded request left: synthesized a 200');
    return { kind: 'reply', reply: jsonReply(200, body), delay: 0, matched: null, quiet: false };
  }

  private learnUser(req: LiveRequest, shape: RequestShape): void {
    if (this.subst.liveUserId !== undefined) return;
    let id: string | undefined;
    if (routePolicy(req.route).opensSession === 'new') id = userIdOfStartBody(parseJson(req.body));
    else if (shape.activity) id = typeof shape.activity.from?.id === 'string' ? shape.activity.from.id : undefined;
    if (!id && req.route === Route.upload) id = nonEmpty(req.query.get('userId'));
    if (id) this.subst.liveUserId = id;
  }

  // ---- replies ---------------------------------------------------------------------------------

  private recordedReply(ev: HttpEvent, watermark: string | undefined): Reply {
    const res = ev.response;
    if (!res) {
      // The upstream was unreachable while recording; the client got a 502 then and gets it now.
      return jsonReply(
        502,
        errorBody(ev.error?.code ?? 'BadGateway', ev.error?.message ?? 'the upstream could not be reached when this was recorded'),
      );
    }
    let body: Buffer | string;
    if (res.body === null) body = '';
    else if ('json' in res.body) body = this.recordedJson(ev, res.body.json, watermark);
    else if ('text' in res.body) body = this.subst.text(res.body.text);
    else body = decodeBody(res.body);
    return { status: res.status, headers: sharedReplyHeaders(ev, this.model.recordedId) ?? this.replyHeaders(res), body };
  }

  /** A recorded response's kept headers with this session's values in them. */
  private replyHeaders(res: NonNullable<HttpEvent['response']>): Record<string, string> {
    const headers = keptHeaders(res.headers, (v) => this.subst.text(v));
    if (res.body && 'json' in res.body && !headers['content-type']) headers['content-type'] = 'application/json; charset=utf-8';
    return headers;
  }

  /** A recorded JSON body as this session sends it: from its shared template, else substituted value by value. */
  private recordedJson(ev: HttpEvent, json: unknown, watermark: string | undefined): string {
    const template = watermark === undefined ? replyTemplateOf(ev, json, this.model, this.isUpstreamUrl) : null;
    const live = this.subst.liveUserId;
    const rec = this.model.recordedId;
    if (template && !liveUserNeedsWalk(live, rec)) return template.render(this.fill());
    return JSON.stringify(this.subst.json(json, watermark));
  }

  /** What this session puts into templates (made again when it learns the live user id). */
  private fill(): TemplateFill {
    if (this.templateFill?.liveUserId !== this.subst.liveUserId || this.templateFill === null) {
      this.templateFill = {
        recordedConversationId: this.model.recordedId,
        liveConversationId: this.liveId,
        recordedUserId: this.model.userId,
        liveUserId: this.subst.liveUserId,
        token: (p) => this.tokenFor(p),
        streamUrl: (recorded) => this.streamUrl(recorded, undefined),
      };
    }
    return this.templateFill;
  }

  /** GET .../activities: released, stored activities after the client's watermark (never matched one by one). */
  private poll(req: LiveRequest): Outcome {
    this.attach(req.arrival, 'poll');
    const asked = req.query.get('watermark');
    const after = this.positionAfter(asked);
    const activities: Activity[] = [];
    let watermark: string | null = after >= 0 && asked !== null && this.model.watermarkIndex.has(asked) ? asked : null;
    for (let i = after + 1; i < this.releasedEntries; i++) {
      const entry = this.model.log[i];
      if (entry.typing) continue;
      activities.push(this.serveActivity(entry));
      watermark = entry.watermark ?? watermark;
    }
    const headers = this.model.pollHeaders ? keptHeaders(this.model.pollHeaders) : {};
    headers['content-type'] ??= 'application/json; charset=utf-8';
    const reply: Reply = { status: 200, headers, body: JSON.stringify({ activities, watermark }) };
    return { kind: 'reply', reply, delay: 0, matched: null, quiet: true };
  }

  /** Index of the log entry a client watermark points at; -1 (from the start) for none, `-`, empty or unknown. */
  positionAfter(watermark: string | null | undefined): number {
    if (watermark === null || watermark === undefined || watermark === '' || watermark === '-') return -1;
    return this.model.watermarkIndex.get(watermark) ?? -1;
  }

  /** A released recorded frame as this session sends it, from its shared template; null when it has none. */
  templatedFrame(item: ActivitiesItem): string | null {
    const template = templateOf(item, this.model, this.isUpstreamUrl);
    if (!template) return null;
    const live = this.subst.liveUserId;
    const rec = this.model.recordedId;
    if (liveUserNeedsWalk(live, rec)) return null;
    const first = item.entries[0];
    const releasedAt = (first !== undefined ? this.releasedAt.get(first) : undefined) ?? serviceTimestamp(new Date());
    return template.render({ ...this.fill(), releasedAt });
  }

  /** A released recorded frame, substituted value by value (what templatedFrame gives, for any frame). */
  generalFrame(item: ActivitiesItem): string {
    const frame: Record<string, unknown> = {
      ...(this.subst.json(item.frame?.extra ?? {}) as Record<string, unknown>),
      activities: item.entries.map((i) => this.serveActivity(this.model.log[i])),
    };
    if (item.frame?.hasWatermark) frame.watermark = item.frame.watermark;
    return JSON.stringify(frame);
  }

  /** A recorded activity as this session serves it: substituted, and an echo carrying the live client's values. */
  serveActivity(entry: LogEntry): Activity {
    const out = this.subst.json(entry.activity) as Activity;
    // A replayed conversation happens now: "Just now" in Web Chat, not the day it was recorded.
    const at = this.releasedAt.get(entry.index);
    if (at && typeof out.timestamp === 'string') out.timestamp = at;
    const live = entry.id !== undefined ? this.echoes.get(entry.id) : undefined;
    if (live) {
      setOrDelete(out, 'channelData', live.channelData);
      setOrDelete(out, 'text', live.text);
      setOrDelete(out, 'value', live.value);
      if (live.from) {
        const from: ChannelAccount = { ...(out.from ?? {}) };
        for (const k of ['id', 'name', 'role'] as const) if (live.from[k] !== undefined) from[k] = live.from[k];
        out.from = from;
      }
    }
    return out;
  }

  private release(index: number): void {
    if (this.closed) return;
    const item = this.model.items[index];
    if (item.kind === 'activities' && item.entries.length) {
      this.releasedEntries = item.entries[item.entries.length - 1] + 1;
      const now = serviceTimestamp(new Date());
      for (const e of item.entries) this.releasedAt.set(e, now);
    }
    try {
      this.ctx.onRelease(this, item, index);
    } catch (err) {
      this.ctx.logger.error({ err, session: this.n, item: index }, 'delivering a released item failed');
    }
  }

  private wait(duration: number): number {
    return scaled(duration, this.ctx.speed);
  }

  // ---- credentials and stream URLs ---------------------------------------------------------------

  /** This session's synthetic value for a recorded placeholder (or raw recorded token), minted on first use. */
  private tokenFor(recorded: string): string {
    let value = this.synthetic.get(recorded);
    if (!value) {
      // What the placeholder stands for comes from the cassette's own table; a raw value left in is a token.
      const kind = this.ctx.placeholderKind(recorded) ?? 'token';
      value = mintToken(kind, this.liveId, this.n, this.ctx.instance);
      this.synthetic.set(recorded, value);
      if (kind !== 'custom') this.ctx.registerToken(value, this);
    }
    return value;
  }

  private freshToken(kind: SyntheticKind): string {
    const value = mintToken(kind, this.liveId, this.n, this.ctx.instance);
    this.ctx.registerToken(value, this);
    return value;
  }

  /** A recorded streamUrl (absolute, on the upstream), pointed at this server and this session's conversation. */
  private streamUrl(recorded: string, watermark: string | undefined): string {
    let url: URL;
    try {
      url = new URL(recorded);
    } catch {
      return this.subst.text(recorded);
    }
    const t = url.searchParams.get('t');
    const extra: Array<[string, string]> = [];
    for (const [k, v] of url.searchParams) if (k !== 't' && k !== 'watermark') extra.push([k, this.subst.text(v)]);
    return this.buildStreamUrl(
      watermark ?? url.searchParams.get('watermark') ?? '-',
      t ? this.tokenFor(t) : this.freshToken('streamToken'),
      extra,
    );
  }

  /**
   * A recorded attachment URL on the upstream (docs/protocol.md#attachments), pointed at this server: same path and query, with this
   * session's conversation id and tokens in them (server.ts serves the recorded GET of that path).
   */
  private attachmentUrl(recorded: string): string | undefined {
    if (!this.wsOrigin || !this.ctx.isUpstreamUrl?.(recorded)) return undefined;
    const url = new URL(recorded);
    const origin = this.wsOrigin.replace(/^ws(s?):/, 'http$1:');
    return origin + this.subst.text(url.pathname + url.search + url.hash);
  }

  private buildStreamUrl(watermark: string, t: string, extra: Array<[string, string]>): string {
    const params = new URLSearchParams();
    params.set('watermark', watermark);
    for (const [k, v] of extra) params.append(k, v);
    params.set('t', t);
    return `${this.wsOrigin}${this.ctx.basePath}/conversations/${encodeURIComponent(this.liveId ?? '')}/stream?${params}`;
  }
}

/**
 * Whether the live user id rules templates out: one holding the recorded conversation id or a placeholder
 * would be rewritten again by the template's later replacements, which the substitution walk never does.
 */
function liveUserNeedsWalk(live: string | undefined, recordedId: string | null): boolean {
  return live !== undefined && ((recordedId !== null && recordedId !== '' && live.includes(recordedId)) || mayHoldPlaceholder(live));
}

function liveEchoOf(a: Activity): LiveEcho {
  return { channelData: a.channelData, from: a.from && typeof a.from === 'object' ? a.from : undefined, text: a.text, value: a.value };
}

function setOrDelete(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (value === undefined) delete obj[key];
  else obj[key] = value;
}

function header(req: LiveRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function nonEmpty(v: string | null | undefined): string | undefined {
  return v === null || v === undefined || v === '' ? undefined : v;
}

function parseJson(buf: Buffer): unknown {
  if (buf.length === 0) return undefined;
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** ISO time with the service's 7 fractional digits (docs/protocol.md#activity-stamps): 2026-06-12T12:53:39.4220000Z. */
function serviceTimestamp(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');
}

const replyHeaders = new WeakMap<HttpEvent, Record<string, string> | null>();

/**
 * A recorded response's kept headers when they hold nothing a session substitutes (no recorded conversation id,
 * no placeholder): made once and shared by every session (see sharedHeaders); null when they do.
 */
function sharedReplyHeaders(ev: HttpEvent, recordedId: string | null): Record<string, string> | null {
  let headers = replyHeaders.get(ev);
  if (headers === undefined) {
    const res = ev.response!;
    const values = Object.values(res.headers);
    const personal = values.some((v) => mayHoldPlaceholder(v) || (recordedId !== null && recordedId !== '' && v.includes(recordedId)));
    if (personal) headers = null;
    else {
      const kept = keptHeaders(res.headers);
      if (res.body && 'json' in res.body && !kept['content-type']) kept['content-type'] = 'application/json; charset=utf-8';
      headers = sharedHeaders(kept);
    }
    replyHeaders.set(ev, headers);
  }
  return headers;
}
