// One HTTP exchange through the recorder, from the request's arrival to its place in the cassette: it has
// http-proxy send the request to the upstream (once more on a fresh connection when a pooled one turns out
// stale), answers the client with the upstream's answer (streamUrl and attachment URLs rewritten) or a 502,
// and builds the exchange's cassette record in one place (record()).
//
// http-proxy reports the upstream request and response as events of its server, which every exchange
// shares (ExchangeProxy below); each exchange marks its own request with a symbol, so the events reach the
// exchange they belong to and no request state lives outside it.
//
// Compression: the upstream is always asked for gzip/deflate/br; the cassette stores the decoded body (so
// redaction and streamUrl rewriting see JSON), and the client gets the upstream's bytes only when its own
// Accept-Encoding takes that encoding and nothing had to be rewritten, else the decoded body without
// Content-Encoding.
import type { ClientRequest, IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Stream } from 'node:stream';
import httpProxy from 'http-proxy';
import { encodeBody } from '../cassette/body.js';
import { isHopByHop } from '../net/headers.js';
import { sendError } from '../protocol/errors.js';
import { Route, routePolicy, type RouteMatch } from '../protocol/routes.js';
import { isActivitySet } from '../protocol/types.js';
import { pickRequestHeaders, pickResponseHeaders, queryOf } from './capture.js';
import type { RawBody, RawHttpCapture } from './capture-client.js';
import { clientOrigins, type RecordContext } from './context.js';
import { decodeContent } from './decode.js';
import { rewriteStreamUrls } from './stream-urls.js';
import type { RequestFault } from '../faults/plan.js';

/** What the recorder asks the upstream for, whatever the client accepts: every encoding decode.ts reads. */
export const UPSTREAM_ACCEPT_ENCODING = 'gzip, deflate, br';

// Errors that mean a pooled keep-alive socket was closed by the upstream as the request went out.
const STALE_SOCKET = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);
// A stale pooled socket fails at once. A reset after this long means the upstream had the request (and may
// have acted on it: a POST to a bot), so it is reported, not sent again.
const STALE_WINDOW_MS = 5;

/** The request as it arrived, read whole. */
export interface ArrivedRequest {
  req: IncomingMessage;
  res: ServerResponse;
  route: RouteMatch;
  url: URL;
  body: Buffer;
}

const EXCHANGE = Symbol('directline-vcr.exchange');
type MarkedRequest = IncomingMessage & { [EXCHANGE]?: HttpExchange };

/** The http-proxy server every exchange of one recorder forwards through (it holds no per-request state). */
export class ExchangeProxy {
  readonly server = httpProxy.createProxyServer({ selfHandleResponse: true, xfwd: false, ws: false });
  /** The upstream's origin as http-proxy takes a target (parsed once). */
  readonly target: { protocol: string; host: string; hostname: string; port: string };

  constructor(ctx: RecordContext) {
    const u = new URL(ctx.upstream.origin);
    this.target = { protocol: u.protocol, host: u.host, hostname: u.hostname, port: u.port };
    this.server.on('proxyReq', (proxyReq, req) => (req as MarkedRequest)[EXCHANGE]?.onUpstreamRequest(proxyReq));
    this.server.on('proxyRes', (proxyRes, req) => (req as MarkedRequest)[EXCHANGE]?.onResponse(proxyRes));
    // Every web() call passes its own error callback; this only keeps EventEmitter from throwing.
    this.server.on('error', (err) => ctx.logger.debug({ err: err.message }, 'http-proxy error outside an exchange'));
  }
}

export class HttpExchange {
  private readonly t: number;
  private readonly start = performance.now();
  /** Releases the cassette writer's hold on events after `t` (see Capture.hold); safe to call twice. */
  private readonly release: () => void;
  private upstreamReq: ClientRequest | null = null;
  private sentAt = 0;
  private retried = false;
  /** The client went away before its answer: the exchange ends unrecorded. */
  private abandoned = false;
  private done = false;
  /** An injected fault (src/faults/): an answer instead of the upstream's, or the upstream's answer later. */
  private readonly fault: RequestFault | null;

  constructor(
    private readonly ctx: RecordContext,
    private readonly proxy: ExchangeProxy,
    private readonly arrived: ArrivedRequest,
  ) {
    (arrived.req as MarkedRequest)[EXCHANGE] = this;
    this.t = ctx.capture?.now() ?? 0;
    // Events after t stay off the disk until this exchange is in the cassette, so it needs no rewrite.
    this.release = ctx.capture?.hold(this.t) ?? (() => {});
    arrived.res.once('close', () => {
      this.release(); // an exchange that is never captured (client gone) must not hold the writer
      if (!this.done) {
        this.abandoned = true;
        this.upstreamReq?.destroy();
      }
    });
    this.fault = ctx.faults.request(arrived.route.route, arrived.route.conversationId);
  }

  /** Has http-proxy send the request (its body already read) to the upstream. */
  send(): void {
    // A faulted request never reaches the upstream: the client gets what the service would say, and so does the cassette.
    if (this.fault?.kind === 'reply') {
      this.answerFault(this.fault);
      return;
    }
    const { req, res, body, url } = this.arrived;
    const { outbound } = this.ctx;
    // http-proxy copies req.headers and the path of req.url into the upstream request, synchronously in
    // web(): for that call they are the upstream's (hop-by-hop dropped, Host the upstream's, our
    // Accept-Encoding, the length of the body read) and the path we matched the route on; the client's are
    // back right after, for the cassette and the answer.
    const own = { headers: req.headers, url: req.url };
    req.headers = this.upstreamHeaders();
    req.url = url.pathname + url.search;
    this.upstreamReq = null;
    try {
      this.proxy.server.web(
        req,
        res,
        {
          target: this.proxy.target,
          agent: outbound.httpAgent,
          secure: outbound.trust?.rejectUnauthorized ?? true,
          selfHandleResponse: true,
          buffer: new WholeBody(body) as unknown as Stream,
        },
        (err) => this.onError(err as NodeJS.ErrnoException),
      );
    } finally {
      req.headers = own.headers;
      req.url = own.url;
    }
    this.sentAt = performance.now();
  }

  private upstreamHeaders(): IncomingHttpHeaders {
    const { req, body } = this.arrived;
    const headers: IncomingHttpHeaders = {};
    // Expect: the body is already here, nothing to wait for (http-proxy also skips its proxyReq event then).
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined && !isHopByHop(k) && k !== 'host' && k !== 'expect') headers[k] = v;
    }
    // The service rejects a Host that is not its own (SNI follows it).
    headers.host = this.proxy.target.host;
    headers['accept-encoding'] = UPSTREAM_ACCEPT_ENCODING; // replaces the client's (kept in req.headers)
    if (body.length > 0 || req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined) {
      headers['content-length'] = String(body.length);
    }
    return headers;
  }

  /** http-proxy's request to the upstream has its socket (proxyReq). */
  onUpstreamRequest(up: ClientRequest): void {
    this.upstreamReq = up;
    if (this.abandoned) up.destroy();
  }

  /** The upstream's answer has begun (proxyRes). */
  onResponse(proxyRes: IncomingMessage): void {
    const up = this.upstreamReq ?? undefined;
    // A proxy that refused the tunnel answered in the upstream's place: that is no upstream answer.
    const refused = this.ctx.outbound.proxyRefusal(up);
    if (refused) {
      proxyRes.resume();
      const err: NodeJS.ErrnoException = new Error(
        `the proxy answered ${refused.statusCode} ${refused.statusText} to CONNECT ${new URL(this.ctx.upstream.origin).host}`.trim(),
      );
      err.code = 'PROXY_TUNNEL_REFUSED';
      this.fail(err);
      return;
    }
    const chunks: Buffer[] = [];
    proxyRes.on('data', (c: Buffer) => chunks.push(c));
    proxyRes.on('error', (err: NodeJS.ErrnoException) => this.onError(err));
    const whole = () => (chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
    if (this.streams(proxyRes)) {
      // Nothing to rewrite and an encoding the client takes: the client gets the bytes as they come.
      const { res } = this.arrived;
      const length = proxyRes.headers['content-length'];
      res.writeHead(
        proxyRes.statusCode ?? 502,
        proxyRes.statusMessage,
        this.clientHeaders(proxyRes, false, length === undefined ? undefined : Number(length)),
      );
      proxyRes.pipe(res);
      proxyRes.on('end', () => this.streamed(proxyRes, whole()));
      return;
    }
    proxyRes.on('end', () => this.answer(proxyRes, whole()));
  }

  /**
   * Whether the answer goes to the client as it arrives: only routes whose bodies carry no URL to rewrite
   * (protocol/routes.ts), in an encoding the client accepts (else the body is decoded for it first).
   */
  private streams(proxyRes: IncomingMessage): boolean {
    const { route } = this.arrived.route;
    if (this.fault) return false; // a delayed answer is held whole, then sent
    if (route === Route.unknown) return false; // not a known route: its body is looked at like any
    const policy = routePolicy(route);
    if (policy.carriesStreamUrl || policy.carriesAttachmentUrls) return false;
    return acceptsEncoding(this.arrived.req.headers['accept-encoding'], proxyRes.headers['content-encoding'] as string | undefined);
  }

  /** A streamed answer is complete (the client has had every byte): record it. */
  private streamed(proxyRes: IncomingMessage, raw: Buffer): void {
    if (this.done || this.abandoned) return;
    this.done = true;
    const { route } = this.arrived;
    const status = proxyRes.statusCode ?? 502;
    const { body, decoded } = this.cassetteBody(proxyRes, raw);
    const json = this.needsJson(decoded, false) ? jsonOf(decoded, proxyRes) : null;
    const conversationId = route.conversationId ?? conversationIdOf(json);
    this.record({ conversationId, response: { status, headers: pickResponseHeaders(proxyRes.headers), body } });
    this.logAnswered(status, conversationId, json);
  }

  /**
   * The body as the capture worker gets it: decoded (the worker makes it JSON where it is JSON), an attachment's
   * bytes marked as a file (kept as base64).
   */
  private cassetteBody(proxyRes: IncomingMessage, raw: Buffer): { body: RawBody; decoded: Buffer; decodedOk: boolean } {
    const encoding = proxyRes.headers['content-encoding'] as string | undefined;
    let decoded: Buffer;
    let decodedOk = true;
    try {
      decoded = decodeContent(raw, encoding);
    } catch (err) {
      this.ctx.logger.warn({ err: (err as Error).message, encoding }, 'could not decode the upstream body; recording it as received');
      decoded = raw;
      decodedOk = false;
    }
    const file = this.arrived.route.route === Route.attachment;
    return { body: { bytes: decoded, contentType: proxyRes.headers['content-type'], ...(file ? { file } : {}) }, decoded, decodedOk };
  }

  /**
   * Whether the relay thread must parse the body (the worker parses it for the cassette): for a conversation id
   * the path does not name, URLs to rewrite, or the activity count of a logged poll.
   */
  private needsJson(decoded: Buffer, rewrite: boolean): boolean {
    const { route } = this.arrived.route;
    if (route === Route.attachment || decoded.length === 0) return false;
    if (this.arrived.route.conversationId == null || rewrite) return true;
    return route === Route.activitiesGet && this.ctx.logger.isLevelEnabled('info');
  }

  /** The upstream answered in full: answer the client, then record the exchange. */
  private answer(proxyRes: IncomingMessage, raw: Buffer): void {
    if (this.done || this.abandoned) return;
    this.done = true;
    const { req, res, route } = this.arrived;
    const status = proxyRes.statusCode ?? 502;
    const encoding = proxyRes.headers['content-encoding'] as string | undefined;
    const { body, decoded, decodedOk } = this.cassetteBody(proxyRes, raw);
    // Only a body that names a stream URL or the upstream's host can need rewriting (a cheap byte scan
    // spares the parse, clone and walk for most responses, e.g. every POST .../activities).
    const mayRewrite = mayNeedRewrite(decoded, this.ctx.upstream.origin);
    const json = this.needsJson(decoded, mayRewrite) ? jsonOf(decoded, proxyRes) : null;
    const conversationId = route.conversationId ?? conversationIdOf(json);
    // The client gets the upstream's bytes when it accepts their encoding and no URL has to point at us;
    // otherwise the decoded bytes, without Content-Encoding.
    let clientBody: Buffer = raw;
    let dropEncoding = false;
    if (decodedOk && decoded !== raw && !acceptsEncoding(req.headers['accept-encoding'], encoding)) {
      clientBody = decoded;
      dropEncoding = true;
    }
    const rewritten = json && mayRewrite ? this.rewriteForClient(json, conversationId) : null;
    if (rewritten) {
      clientBody = rewritten;
      dropEncoding = true;
    }
    const headers = this.clientHeaders(proxyRes, dropEncoding, clientBody.length);
    const reply = () => {
      if (res.destroyed) return;
      res.writeHead(status, proxyRes.statusMessage, headers);
      res.end(clientBody);
    };
    if (this.fault) setTimeout(reply, this.fault.delayMs);
    else reply();
    const response = { status, headers: pickResponseHeaders(proxyRes.headers), body };
    this.record({ conversationId, response, ...(this.fault ? { fault: this.fault.note } : {}) });
    this.logAnswered(status, conversationId, json);
  }

  /** The body with its streamUrl and attachment URLs on the recorder, or null when nothing had to change. */
  private rewriteForClient(json: object, conversationId: string | null): Buffer | null {
    const forClient = structuredClone(json);
    const origins = clientOrigins(this.ctx, this.arrived.req);
    const streams = rewriteStreamUrls(forClient, (u) => this.ctx.streamUrls.rewrite(u, origins.ws));
    const files = this.ctx.attachmentUrls.rewriteJson(forClient, origins.http, conversationId);
    return streams || files ? Buffer.from(JSON.stringify(forClient)) : null;
  }

  /** The upstream's headers for the client: ours for CORS, the length of what is sent (none: chunked). */
  private clientHeaders(proxyRes: IncomingMessage, dropEncoding: boolean, length: number | undefined): Record<string, string | string[]> {
    const res = this.arrived.res;
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(proxyRes.headers)) {
      if (v === undefined || isHopByHop(k)) continue;
      if (dropEncoding && k === 'content-encoding') continue;
      if (k.startsWith('access-control-')) continue; // CORS is ours (set by the forwarder)
      headers[k] = v;
    }
    const ourVary = res.getHeader('vary');
    if (ourVary && headers.vary) headers.vary = `${String(headers.vary)}, ${String(ourVary)}`;
    if (length !== undefined && Number.isFinite(length)) headers['content-length'] = String(length);
    return headers;
  }

  private onError(err: NodeJS.ErrnoException): void {
    if (this.done || this.abandoned) return;
    // The upstream closed an idle pooled connection just as this request went out on it: it never saw the
    // request, so send it once more on a fresh connection (the race Node documents for reusedSocket).
    const stale = this.upstreamReq?.reusedSocket && STALE_SOCKET.has(err.code ?? '') && performance.now() - this.sentAt < STALE_WINDOW_MS;
    if (stale && !this.retried && !this.arrived.res.headersSent) {
      this.retried = true;
      this.ctx.logger.debug(
        { route: this.arrived.route.route, code: err.code },
        'pooled upstream connection was closed; sending the request again',
      );
      this.send();
      return;
    }
    this.fail(err);
  }

  /** No upstream answer: the client gets a 502 saying why, and the cassette records the error. */
  private fail(err: NodeJS.ErrnoException): void {
    if (this.done) return;
    this.done = true;
    const { res, route } = this.arrived;
    const { code, message } = this.ctx.outbound.describeError(err, 'request');
    this.ctx.logger.error(
      { route: route.route, code: err.code, upstream: this.ctx.upstream.origin, proxy: this.ctx.outbound.proxy ?? undefined },
      message,
    );
    if (!res.headersSent && !res.destroyed) sendError(res, 502, code, message);
    else if (!res.writableEnded) res.destroy(); // a streamed answer cut short: the client must see it cut
    this.record({ conversationId: route.conversationId, response: null, error: { code: err.code ?? 'UPSTREAM_ERROR', message } });
  }

  /** An injected answer, after its latency, recorded as such (the cassette notes the fault). */
  private answerFault(fault: Extract<RequestFault, { kind: 'reply' }>): void {
    const { res, route } = this.arrived;
    const { reply } = fault;
    setTimeout(() => {
      if (this.done || this.abandoned) return;
      this.done = true;
      res.writeHead(reply.status, { ...reply.headers, 'content-length': String(reply.body.length) });
      res.end(reply.body);
      const response = {
        status: reply.status,
        headers: reply.headers,
        body: { bytes: reply.body, contentType: reply.headers['content-type'] },
      };
      this.record({ conversationId: route.conversationId, response, fault: fault.note });
    }, fault.delayMs);
  }

  /** The one place an exchange becomes its cassette record. */
  private record(outcome: Pick<RawHttpCapture, 'conversationId' | 'response' | 'error' | 'fault'>): void {
    const { req, route, url, body } = this.arrived;
    this.ctx.capture?.http({
      t: this.t,
      route: route.route,
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.search ? queryOf(url.searchParams) : {}, // (searchParams is made on first use)
      requestHeaders: pickRequestHeaders(req.headers),
      requestBody: { bytes: body, contentType: req.headers['content-type'] },
      duration: this.duration(),
      ...outcome,
    });
    this.release();
  }

  /** The info line of an answered exchange: route, status, time, conversation and how many activities it carried. */
  private logAnswered(status: number, conversationId: string | null, json: object | null): void {
    if (!this.ctx.logger.isLevelEnabled('info')) return;
    const { req, route } = this.arrived;
    const fields = { method: req.method, route: route.route, status, ms: Math.round(this.duration()), conversationId };
    this.ctx.logger.info({ ...fields, activities: countActivities(json) }, `${req.method} ${route.route} → ${status}`);
  }

  private duration(): number {
    return Math.round((performance.now() - this.start) * 1000) / 1000;
  }
}

/** Whether an Accept-Encoding header takes `encoding` (identity always; `q=0` refuses; `*` matches). */
export function acceptsEncoding(acceptEncoding: string | string[] | undefined, encoding: string | undefined): boolean {
  const enc = (encoding ?? '').trim().toLowerCase();
  if (!enc || enc === 'identity') return true;
  const header = Array.isArray(acceptEncoding) ? acceptEncoding.join(',') : (acceptEncoding ?? '');
  let star: boolean | undefined;
  for (const part of header.split(',')) {
    const [name = '', ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((x) => x.trim()).find((x) => x.startsWith('q='));
    const ok = q === undefined || Number(q.slice(2)) > 0;
    const n = name.trim();
    if (n === enc || (enc === 'gzip' && n === 'x-gzip')) return ok;
    if (n === '*') star = ok;
  }
  return star ?? false;
}

/**
 * The body read, as what http-proxy pipes to the upstream request (pipe() is all it calls, once per sending): it
 * ends the request with the whole body in one write (headers and body in one packet, as a plain request.end(body)).
 */
class WholeBody {
  constructor(private readonly body: Buffer) {}

  pipe<T extends NodeJS.WritableStream>(destination: T): T {
    destination.end(this.body);
    return destination;
  }
}

function countActivities(json: object | null): number | undefined {
  return json && isActivitySet(json) ? json.activities.length : undefined;
}

/** The body parsed as the cassette would keep it, when that is a JSON object or array (else null). */
function jsonOf(decoded: Buffer, proxyRes: IncomingMessage): object | null {
  const b = encodeBody(decoded, proxyRes.headers['content-type']);
  return b && 'json' in b && b.json && typeof b.json === 'object' ? b.json : null;
}

function conversationIdOf(json: object | null): string | null {
  const cid = json ? (json as { conversationId?: unknown }).conversationId : undefined;
  return typeof cid === 'string' ? cid : null;
}

const upstreamHosts = new Map<string, Buffer>();

function mayNeedRewrite(body: Buffer, upstreamOrigin: string): boolean {
  let host = upstreamHosts.get(upstreamOrigin);
  if (!host) upstreamHosts.set(upstreamOrigin, (host = Buffer.from(new URL(upstreamOrigin).host)));
  return body.includes('treamUrl') || body.includes('treamurl') || body.includes('TREAMURL') || body.includes(host);
}
