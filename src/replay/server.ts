// HTTP + WebSocket wiring of the replayer: CORS and the base path, finding (or starting) the session a
// request belongs to, answering after the recorded latency, and turning anything the cassette cannot
// answer into a Direct Line-shaped ReplayMismatch error that is logged and counted. GETs of the attachment
// URLs served activities carry are answered from the cassette's recorded GETs (attachments.ts).
import type { DemoPageHandler } from '../web/index.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { Logger } from '../log.js';
import { ANY_ORIGIN, type CorsPolicy } from '../net/cors.js';
import { errorBody } from '../protocol/errors.js';
import { FrontDoor, hostForUrl, isWildcardHost, type Listening } from '../net/front-door.js';
import { BodyTooLargeError, DEFAULT_MAX_BODY_BYTES, readRequestBodyThen } from '../net/request-body.js';
import { matchRoute, Route, routePolicy, stripBase, type RouteName } from '../protocol/routes.js';
import type { Catalog } from './catalog.js';
import type { ConversationModel } from './conversation-model.js';
import { RecordedAttachments, type AttachmentLookup } from './attachments.js';
import { decodeBody } from '../cassette/body.js';
import { answerPreflight, corsHeaders, jsonReply, keptHeaders, refuseUpgrade, RequestTarget, writeReply, type Reply } from './http-io.js';
import { websocketHandshakeProblem } from '../net/websocket-handshake.js';
import { shapeOf, type MatchMode } from './matcher.js';
import { monotonicClock, type Clock } from './scheduler.js';
import { Session, type LiveRequest, type Outcome, type SessionContext } from './session.js';
import { bearerOf, SessionRegistry } from './session-registry.js';
import { MismatchLog } from './mismatch-log.js';
import { ReplyTimer, scaled } from './timing.js';
import { StreamHub } from './stream.js';
import type { ReplaySummary } from './types.js';
import { readModel, type CassetteModel } from '../model/index.js';
import { interceptedOrigin } from '../forward/proxy.js';
import { FaultPlan } from '../faults/plan.js';
import { releasedEvent, type ReplayEvent, type ReplayObserver } from './observer.js';
import { instanceOfConversationId } from './instance.js';

/**
 * Status of a request the cassette cannot answer (always with error code ReplayMismatch):
 *  - 404 when the cassette has nothing for it: unknown conversation or bearer, a route never recorded, or all
 *    recorded requests of that route already used. It is what the service says for unknown conversations,
 *    so clients take their "conversation gone" path (DirectLineJS: polling → Ended) instead of retrying.
 *  - 400 when a recorded request is next in line but the live one differs (activity type/text, upload parts):
 *    the request is understood and wrong. DirectLineJS hands 4xx on a send to the caller; a 5xx would make it
 *    retry silently, and 409 ("already exists" in Swagger) would suggest a conflict the service never reports.
 */
export const MISMATCH_NOT_FOUND = 404;
export const MISMATCH_DIFFERENT = 400;

/** Conversation ids are short base64url-ish strings, often with a region suffix (`…-us`). */
const PLAUSIBLE_CONVERSATION_ID = /^[A-Za-z0-9._-]{1,128}$/;

export interface ReplayServerOptions {
  catalog: Catalog;
  speed: number;
  logger: Logger;
  publicUrl?: string;
  /** Shown in the re-record hint. */
  cassetteFile?: string;
  clock?: Clock;
  /** Answers GET / and /webchat.js before anything else (createDemoPage). */
  demoPage?: DemoPageHandler | null;
  /** Listen with TLS (https:// and wss://): PEM texts already loaded (see src/net/pem.ts). */
  tls?: { cert: string; key: string } | null;
  /** Which browser origins may call (default: any). */
  cors?: CorsPolicy;
  /** Requests with larger bodies get 413 (default DEFAULT_MAX_BODY_BYTES, as the recorder). */
  maxBodyBytes?: number;
  /** Fault rules in force (src/faults/): consulted before a request is matched and on every stream. */
  faults?: FaultPlan;
  /** Told of sessions, matches, mismatches and releases as they happen (the live inspector). */
  observe?: ReplayObserver;
  /** This process's id among several behind a reverse proxy: minted ids and tokens carry it (instance.ts). */
  instance?: string;
  /** How posted messages must match (default strict). */
  match?: MatchMode;
  /** Sessions unused for this long are let go (ReplayOptions.sessionIdleMs). Default DEFAULT_SESSION_IDLE_MS. */
  sessionIdleMs?: number;
}

export const DEFAULT_SESSION_IDLE_MS = 10 * 60_000;

/** Where a live request goes: a Direct Line route of this cassette's base path, or nowhere. */
type Routed = { route: RouteName; conversationId: string | null; target: RequestTarget; method: string };

/** A request whose body is being read. */
interface PendingRequest {
  server: ReplayServer;
  req: IncomingMessage;
  res: ServerResponse;
  routed: Routed;
  arrival: number;
  cors: Record<string, string>;
}

// Module-level, with the request as its argument: no closure made per request.
function bodyRead(p: PendingRequest, err: Error | null, body?: Buffer): void {
  p.server.bodyRead(p, err, body);
}

function none(reason: string): { status: number; reason: string } {
  return { status: MISMATCH_NOT_FOUND, reason };
}

export class ReplayServer {
  readonly door: FrontDoor;
  readonly secure: boolean;
  readonly faults: FaultPlan;
  private readonly cors: CorsPolicy;
  // No permessage-deflate (ws' default for servers, stated here): a deflate context per socket would cost far
  // more memory than a live session's state (hundreds of KB of zlib each), and Direct Line frames are small.
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  private readonly sessions = new SessionRegistry();
  private readonly mismatches: MismatchLog;
  private readonly replies: ReplyTimer;
  private readonly clock: Clock;
  private readonly basePath: string;
  private readonly attachments: RecordedAttachments;
  private readonly model: CassetteModel;
  private readonly started: number;
  private matched = 0;
  private closing = false;
  private host = '127.0.0.1';
  private port = 0;
  /** wsOrigin() when it does not depend on the request (known once listening). */
  private fixedWsOrigin: string | null = null;
  private readonly sweeper: NodeJS.Timeout | null;

  constructor(private readonly opts: ReplayServerOptions) {
    this.clock = opts.clock ?? monotonicClock;
    this.started = this.clock();
    this.replies = new ReplyTimer(this.clock);
    this.basePath = opts.catalog.basePath;
    this.mismatches = new MismatchLog(opts.logger, rerecordHint(opts.catalog, opts.cassetteFile), (e) => this.report(e));
    this.attachments = new RecordedAttachments(opts.catalog.cassette);
    this.model = readModel(opts.catalog.cassette);
    this.secure = Boolean(opts.tls);
    this.cors = opts.cors ?? ANY_ORIGIN;
    this.faults = opts.faults ?? new FaultPlan([], { logger: opts.logger });
    this.door = new FrontDoor({ tls: opts.tls, logger: opts.logger });
    const idleMs = opts.sessionIdleMs ?? DEFAULT_SESSION_IDLE_MS;
    this.sweeper = idleMs > 0 && Number.isFinite(idleMs) ? setInterval(() => this.letGoIdle(idleMs), Math.min(idleMs, 60_000)) : null;
    this.sweeper?.unref();
    if (opts.demoPage) this.door.handle(opts.demoPage);
    this.door.handle((req, res) => {
      try {
        this.onRequest(req, res);
      } catch (err) {
        this.failed(req, res, err);
      }
      return true;
    });
    this.door.handleUpgrade((req, socket, head) => {
      this.onUpgrade(req, socket, head);
      return true;
    });
  }

  async listen(port: number, host: string): Promise<Listening> {
    const listening = await this.door.listen(port, host);
    this.host = host;
    this.port = listening.port;
    return listening;
  }

  summary(): ReplaySummary {
    return {
      conversations: this.sessions.count,
      matched: this.matched,
      unmatched: this.mismatches.count,
      unmatchedRequests: this.mismatches.requests(),
      faults: this.faults.summary(),
    };
  }

  /** Frees the sessions nobody used for idleMs (see SessionRegistry.evictIdle). */
  private letGoIdle(idleMs: number): void {
    const gone = this.sessions.evictIdle(idleMs);
    for (const s of gone) this.faults.forget(faultScope(s));
    if (gone.length && this.opts.logger.isLevelEnabled('debug')) {
      this.opts.logger.debug({ sessions: gone.map((s) => s.n), live: this.sessions.live }, 'idle sessions let go');
    }
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.sweeper) clearInterval(this.sweeper);
    this.replies.close();
    for (const s of this.sessions.all()) s.close();
    const closed: Promise<void>[] = [];
    for (const client of this.wss.clients) closed.push(new Promise((resolve) => client.once('close', () => resolve())));
    for (const hub of this.sessions.allHubs()) hub.closeAll();
    // Give clients a moment to answer the close handshake, then drop whatever is left.
    await Promise.race([Promise.all(closed), new Promise((resolve) => setTimeout(resolve, 250).unref())]);
    for (const hub of this.sessions.allHubs()) hub.terminateAll();
    for (const client of this.wss.clients) client.terminate();
    const stopped = this.door.stopAccepting();
    this.door.closeAllConnections();
    await stopped;
    this.wss.close();
  }

  // ---- HTTP ------------------------------------------------------------------------------------

  /** A request that threw: 500 with a Direct Line error body (or a reset when the answer had begun). */
  private failed(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    this.opts.logger.error({ err }, 'replay request failed');
    const failed = jsonReply(500, errorBody('ReplayError', 'the replayer failed on this request'));
    if (!res.headersSent) writeReply(res, failed, corsHeaders(req, this.cors));
    else res.destroy();
  }

  /** One live request: admitted (CORS), routed, read, maybe faulted, then answered by its session or as a mismatch. */
  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const arrival = this.clock();
    const cors = corsHeaders(req, this.cors);
    if (!this.admit(req, res, cors)) return;
    const routed = this.routeOf(req, res, arrival, cors);
    if (!routed) return;
    // A callback, not a promise: the answer is written in the body's 'end' event, with no microtask in between.
    readRequestBodyThen(req, this.opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, bodyRead, { server: this, req, res, routed, arrival, cors });
  }

  /** The body has been read (or could not be): the request is answered. */
  bodyRead(p: PendingRequest, err: Error | null, body: Buffer | undefined): void {
    if (err) {
      if (err instanceof BodyTooLargeError) writeReply(p.res, jsonReply(413, errorBody('BadArgument', err.message)), p.cors);
      return;
    }
    try {
      this.onBody(p.req, p.res, p.routed, body!, p.arrival, p.cors);
    } catch (e) {
      this.failed(p.req, p.res, e);
    }
  }

  private onBody(
    req: IncomingMessage,
    res: ServerResponse,
    routed: Routed,
    body: Buffer,
    arrival: number,
    cors: Record<string, string>,
  ): void {
    if (this.closing) return;
    const { route, conversationId, target, method } = routed;
    const live: LiveRequest = {
      method,
      path: target.pathname,
      route,
      query: target,
      headers: req.headers,
      body,
      arrival,
      wsOrigin: this.wsOrigin(req),
    };
    // A faulted request is answered here, before matching: it does not use up the recorded request.
    const fault = this.faults.active ? this.faults.request(route, this.faultScopeOf(route, conversationId, req)) : null;
    if (fault?.kind === 'reply') {
      this.replies.sendAt(res, fault.reply, cors, arrival + fault.delayMs);
      return;
    }
    const found = this.sessionFor(routed, req, arrival);
    if ('session' in found) this.sessions.touch(found.session);
    const outcome: Outcome =
      'session' in found
        ? found.session.handle(live)
        : {
            kind: 'mismatch',
            ...found,
            expected: null,
            shape: shapeOf(route, body, header(req, 'content-type'), header(req, 'content-disposition')),
          };
    if (outcome.kind === 'mismatch') {
      const session = 'session' in found ? found.session.n : null;
      writeReply(res, this.mismatches.request(live, outcome.status, outcome.reason, outcome.expected, outcome.shape, session), cors);
      return;
    }
    this.answered('session' in found ? found.session : null, live, outcome);
    this.replies.sendAt(res, outcome.reply, cors, arrival + outcome.delay + (fault?.delayMs ?? 0));
  }

  /** The conversation a request's faults are counted for: its session's, when it has one already. */
  private faultScopeOf(route: RouteName, conversationId: string | null, req: IncomingMessage): string | null {
    if (route === Route.tokensGenerate) return null;
    const known = conversationId !== null ? this.sessions.ofConversation(conversationId) : this.sessions.ofBearer(req);
    return known ? faultScope(known) : null;
  }

  /** CORS: a preflight is answered here; a refused origin gets 403. Whether the request goes on. */
  private admit(req: IncomingMessage, res: ServerResponse, cors: Record<string, string>): boolean {
    if ((req.method ?? 'GET').toUpperCase() === 'OPTIONS') {
      answerPreflight(req, res, this.cors);
      return false;
    }
    const refusal = this.cors.refusal(req);
    if (!refusal) return true;
    this.opts.logger.warn({ method: req.method, path: req.url?.split('?')[0], origin: req.headers.origin }, `refused: ${refusal}`);
    writeReply(res, jsonReply(403, errorBody('OriginNotAllowed', refusal)), cors);
    req.resume();
    return false;
  }

  /** The Direct Line route of a request; attachment GETs and paths outside the base path are answered here (null). */
  private routeOf(req: IncomingMessage, res: ServerResponse, arrival: number, cors: Record<string, string>): Routed | null {
    const method = (req.method ?? 'GET').toUpperCase();
    const target = RequestTarget.of(req.url);
    const sub = stripBase(target.pathname, this.basePath);
    const matched = sub === null ? null : matchRoute(method, sub);
    // An attachment URL (anywhere, as the upstream had it): only GETs that are no Direct Line operation look.
    if ((method === 'GET' || method === 'HEAD') && (matched === null || matched.route === Route.unknown)) {
      const attachment = this.attachments.find(target.pathname, this.sessions.inPath(target.pathname));
      if (attachment) {
        req.resume();
        this.serveAttachment(req, res, target.pathname, attachment, arrival, cors);
        return null;
      }
    }
    if (matched === null) {
      const base = this.basePath || '/';
      const message =
        `this replay serves the cassette's base path ${base}; ${target.pathname} is outside it ` + `(use domain ${base} on this host)`;
      writeReply(res, jsonReply(404, errorBody('NotFound', message)), cors);
      return null;
    }
    return { route: matched.route, conversationId: matched.conversationId, target, method };
  }

  /** The session a request belongs to (found, started or resumed, by the route's policy), or why there is none. */
  private sessionFor(routed: Routed, req: IncomingMessage, arrival: number): { session: Session } | { status: number; reason: string } {
    const { route, conversationId } = routed;
    const policy = routePolicy(route);
    let session: Session | undefined;
    if (policy.replay === 'none') return none('not a Direct Line 3.0 operation');
    if (policy.replay === 'upgrade') return none('the stream is a WebSocket: this GET carried no Upgrade header');
    if (policy.opensSession === 'new' && !policy.cause) {
      session = this.newSession(route, arrival);
      return session ? { session } : none(`no recorded conversation begins with ${route}`);
    }
    if (policy.opensSession === 'new') {
      session = this.sessions.ofBearer(req) ?? this.newSession(route, arrival);
      return session ? { session } : none(`no recorded conversation has a ${route} (and the bearer is no token this replay issued)`);
    }
    if (conversationId !== null) {
      session = this.sessions.ofConversation(conversationId);
      if (!session && policy.opensSession === 'resume') session = this.resumeSession(conversationId, req, arrival);
      return session ? { session } : none(this.unknownConversation(conversationId));
    }
    session = this.sessions.ofBearer(req);
    if (session) return { session };
    return none(
      this.opts.catalog.records(route)
        ? 'the bearer token was not issued by this replay server'
        : `this request was not recorded: the cassette has no ${route} request (${routed.method} ${routed.target.pathname})`,
    );
  }

  private answered(session: Session | null, live: LiveRequest, outcome: Extract<Outcome, { kind: 'reply' }>): void {
    this.matched++;
    const { method, path, route } = live;
    const status = outcome.reply.status;
    if (session) this.report({ kind: 'matched', session: session.n, method, path, route, status, recorded: outcome.matched });
    const level = outcome.quiet || !outcome.matched ? 'debug' : 'info';
    // The fields are built only for a logger that writes them (this runs for every replayed request).
    if (!this.opts.logger.isLevelEnabled(level)) return;
    this.opts.logger[level]({ method, route, status, session: session?.n, conversationId: session?.liveId }, 'replayed');
  }

  /**
   * A recorded attachment GET, answered as recorded (status, headers, bytes) after its recorded latency; an
   * attachment handed out but never fetched while recording gets a 404 mismatch saying how to record it.
   */
  private serveAttachment(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    found: AttachmentLookup,
    arrival: number,
    cors: Record<string, string>,
  ): void {
    const method = (req.method ?? 'GET').toUpperCase();
    if (found.kind === 'unrecorded') {
      const reason =
        'the upstream handed this attachment out, but it was never fetched while recording, so the cassette has no bytes for it';
      writeReply(res, this.mismatches.attachment({ method, path, route: Route.attachment }, MISMATCH_NOT_FOUND, reason), cors);
      return;
    }
    const ev = found.ev;
    const recorded = ev.response;
    const reply: Reply = recorded
      ? { status: recorded.status, headers: keptHeaders(recorded.headers), body: decodeBody(recorded.body) }
      : // The upstream was unreachable when this was fetched while recording: the client got a 502 then.
        jsonReply(
          502,
          errorBody(ev.error?.code ?? 'BadGateway', ev.error?.message ?? 'the upstream could not be reached when this was recorded'),
        );
    this.matched++;
    this.opts.logger.info({ method, route: Route.attachment, status: reply.status, path }, 'replayed');
    this.replies.sendAt(res, reply, cors, arrival + scaled(ev.duration, this.opts.speed));
  }

  private newSession(route: RouteName, arrival: number): Session | undefined {
    let model = this.opts.catalog.next(route);
    let skipGenerate = false;
    if (!model && route === Route.conversationsStart) {
      model = this.opts.catalog.nextSkippingGenerate();
      skipGenerate = model !== undefined;
    }
    if (!model) return undefined;
    const session = this.addSession(model);
    const fields = {
      session: session.n,
      conversationId: session.liveId,
      recorded: model.ordinal + 1,
      skippedTokenGenerate: skipGenerate || undefined,
    };
    this.opts.logger.info(fields, 'session started');
    session.begin(arrival);
    if (skipGenerate) session.skip(Route.tokensGenerate);
    return session;
  }

  private addSession(model: ConversationModel, liveId?: string): Session {
    const n = this.sessions.count + 1;
    const context: SessionContext = {
      basePath: this.basePath,
      speed: this.opts.speed,
      logger: this.opts.logger,
      clock: this.clock,
      registerToken: (token, s) => this.sessions.registerToken(token, s),
      onRelease: (s, item) => {
        this.sessions.hubOf(s)?.deliver(item);
        if (this.opts.observe) this.report(releasedEvent(s.n, s.model, item));
      },
      isUpstreamUrl: (url) => this.attachments.isUpstreamUrl(url),
      placeholderKind: (p) => this.model.placeholderKind(p),
      instance: this.opts.instance,
      match: this.opts.match,
    };
    const session = new Session(n, model, context, liveId);
    const hub = new StreamHub(session, this.wss, this.opts.logger, this.faults, faultScope(session));
    hub.onUse = () => this.sessions.touch(session);
    this.sessions.add(session, hub);
    this.faults.started(faultScope(session));
    this.report({ kind: 'session', session: n, liveId: session.liveId, recordedOrdinal: model.ordinal, recordedId: model.recordedId });
    return session;
  }

  /**
   * A client resuming a conversation it started before (a persisted conversationId): its own session over the
   * recorded conversation, under the id it uses; its bearer finds the session too (e.g. for tokens.refresh).
   */
  private resumeSession(conversationId: string, req: IncomingMessage, arrival: number): Session | undefined {
    // A resume carries the client's credentials (a bearer, or the stream's t=) and an id shaped like one.
    const credential = bearerOf(req) ?? new URL(req.url ?? '/', 'http://replay.invalid').searchParams.get('t');
    if (!credential || !PLAUSIBLE_CONVERSATION_ID.test(conversationId)) return undefined;
    // Started by another process behind the same proxy: resuming it here would split the conversation.
    if (this.otherInstanceOf(conversationId) !== null) return undefined;
    const model = this.opts.catalog.resumable(conversationId);
    if (!model) return undefined;
    const session = this.addSession(model, conversationId);
    this.sessions.registerToken(credential, session);
    this.opts.logger.info({ session: session.n, conversationId, recorded: model.ordinal + 1 }, 'session resumed');
    session.resume(arrival);
    return session;
  }

  private unknownConversation(conversationId: string): string {
    const other = this.otherInstanceOf(conversationId);
    if (other !== null) {
      const here = this.opts.instance;
      return (
        `conversation ${conversationId} was started by replay instance ${other}, and this is instance ${here}: ` +
        'the reverse proxy must send it there (route on the instance in the id, see examples/scale-out/)'
      );
    }
    const n = this.opts.catalog.conversationCount;
    return (
      `conversation ${conversationId} was not started on this replay server, and the cassette has no recorded conversation of ` +
      `that id to resume (it holds ${n})`
    );
  }

  /** The instance that minted a conversation id when it is another one than this process (both named), else null. */
  private otherInstanceOf(conversationId: string): string | null {
    if (this.opts.instance === undefined) return null;
    const owner = instanceOfConversationId(conversationId);
    return owner !== null && owner !== this.opts.instance ? owner : null;
  }

  /** Tells the observer (if any), stamped with the time since this server started; its failure never fails a request. */
  private report(event: DistributiveOmit<ReplayEvent, 'at'>): void {
    if (!this.opts.observe) return;
    try {
      this.opts.observe({ ...event, at: this.clock() - this.started } as ReplayEvent);
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message }, 'replay observer failed');
    }
  }

  // ---- WebSocket -------------------------------------------------------------------------------

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const arrival = this.clock();
    const cors = corsHeaders(req, this.cors);
    const url = new URL(req.url ?? '/', 'http://replay.invalid');
    const refuse = (status: number, reason: string) => refuseUpgrade(socket, this.mismatches.upgrade(url.pathname, status, reason), cors);
    if (this.closing) {
      socket.destroy();
      return;
    }
    const refusal = this.cors.refusal(req);
    if (refusal) {
      this.opts.logger.warn({ path: url.pathname, origin: req.headers.origin }, `stream upgrade refused: ${refusal}`);
      refuseUpgrade(socket, jsonReply(403, errorBody('OriginNotAllowed', refusal)), cors);
      return;
    }
    const sub = stripBase(url.pathname, this.basePath);
    if (sub === null) {
      refuse(404, `outside the cassette's base path ${this.basePath || '/'}`);
      return;
    }
    const { route, conversationId } = matchRoute('GET', sub);
    if (routePolicy(route).replay !== 'upgrade' || conversationId === null) {
      refuse(404, 'not a Direct Line stream path (<basePath>/conversations/<id>/stream)');
      return;
    }
    if (String(req.headers.upgrade).toLowerCase() !== 'websocket') {
      refuse(400, 'only WebSocket upgrades are served');
      return;
    }
    // Refused before the session sees it: a malformed handshake must not count as the client's next stream
    // (each upgrade plays the recorded socket with the same ordinal) nor attach the session.
    const malformed = websocketHandshakeProblem(req);
    if (malformed) {
      refuse(400, malformed);
      return;
    }
    const session = this.sessions.ofConversation(conversationId) ?? this.resumeSession(conversationId, req, arrival);
    if (!session) {
      refuse(404, this.unknownConversation(conversationId));
      return;
    }
    this.matched++;
    this.sessions.hubOf(session)!.upgrade(req, socket, head, url.searchParams, arrival, cors);
  }

  /**
   * Where streamUrls point: publicUrl, else this server (the Host header when listening on every interface);
   * wss:// when the server listens with TLS.
   */
  private wsOrigin(req: IncomingMessage): string {
    const via = interceptedOrigin(req); // came through the forward proxy: back to the host the client called
    if (via) return via.replace(/^http/, 'ws');
    // Every request asks (a session keeps the origin of its latest one); it only varies with a wildcard host.
    if (this.fixedWsOrigin !== null) return this.fixedWsOrigin;
    const origin = this.ownWsOrigin(req);
    if (this.port !== 0 && (this.opts.publicUrl || !isWildcardHost(this.host))) this.fixedWsOrigin = origin;
    return origin;
  }

  private ownWsOrigin(req: IncomingMessage): string {
    if (this.opts.publicUrl) {
      const u = new URL(this.opts.publicUrl);
      const scheme = u.protocol === 'https:' || u.protocol === 'wss:' ? 'wss:' : 'ws:';
      return `${scheme}//${u.host}`;
    }
    const scheme = this.secure ? 'wss' : 'ws';
    const wildcard = isWildcardHost(this.host);
    if (wildcard && typeof req.headers.host === 'string' && req.headers.host) return `${scheme}://${req.headers.host}`;
    return `${scheme}://${hostForUrl(wildcard ? '127.0.0.1' : this.host)}:${this.port}`;
  }
}

/** How to make a cassette that answers what this one could not: re-record it, or re-import it. */
function rerecordHint(catalog: Catalog, cassetteFile: string | undefined): string {
  const { upstream, source } = catalog.cassette;
  const file = cassetteFile ?? '<file>';
  return source?.kind === 'import'
    ? `this cassette was imported from ${source.file}: change it there and run directline-vcr import ${source.file} -o ${file} ` +
        '(or replay with --match loose for a live demo)'
    : `re-record with: directline-vcr record --upstream ${upstream.origin}${catalog.basePath} --cassette ${file}`;
}

/** The conversation a session's faults are counted for. */
function faultScope(s: Session): string {
  return s.liveId ?? `session-${s.n}`;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
