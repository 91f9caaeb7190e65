// The HTTP half of the recorder: forwards each request to the upstream with http-proxy, answers the
// client with the upstream's answer (streamUrl and attachment URLs rewritten), and captures the exchange.
// GETs of attachment URLs the upstream handed out are forwarded too (route 'attachment'), even outside the
// base path, and recorded with their bytes as base64 (attachment-urls.ts).
//
// Compression: the upstream is always asked for gzip/deflate/br; the cassette stores the decoded body (so
// redaction and streamUrl rewriting see JSON), and the client gets the upstream's bytes only when its own
// Accept-Encoding takes that encoding and nothing had to be rewritten, else the decoded body without
// Content-Encoding. CORS preflights are answered here, never forwarded (src/net/cors.ts).
import type http from 'node:http';
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import httpProxy from 'http-proxy';
import type { Logger } from 'pino';
import { encodeBody } from '../cassette/body.js';
import type { Body } from '../cassette/schema.js';
import { matchRoute, stripBase, type RouteMatch } from '../protocol/routes.js';
import { sendError } from '../protocol/errors.js';
import { isActivitySet } from '../protocol/types.js';
import type { CorsPolicy } from '../net/cors.js';
import { isHopByHop } from '../net/headers.js';
import { BodyTooLargeError, readRequestBody, sendBodyTooLarge } from '../net/request-body.js';
import { Capture, pickRequestHeaders, pickResponseHeaders, queryOf } from './capture.js';
import { decodeContent } from './decode.js';
import type { Outbound } from './outbound.js';
import { rewriteStreamUrls, type StreamUrls } from './stream-urls.js';
import type { AttachmentUrls } from './attachment-urls.js';
import type { Upstream } from './upstream.js';

export interface HttpExchangeOptions {
  upstream: Upstream;
  capture: Capture | null; // null = passthrough (log only)
  streamUrls: StreamUrls;
  logger: Logger;
  maxBodyBytes: number;
  /** ws origin clients should use for the stream, from the Host they reached us by. */
  proxyWsOrigin: (req: IncomingMessage) => string;
  /** Attachment URLs the upstream handed out: rewritten for the client, and the only extra paths forwarded. */
  attachmentUrls: AttachmentUrls;
  /** http(s) origin clients should use for attachment URLs, from the Host they reached us by. */
  proxyOrigin: (req: IncomingMessage) => string;
  /** TLS trust, outbound proxy agents and error wording for the upstream leg. */
  outbound: Outbound;
  /** Browser origins allowed (CORS answered locally). */
  cors: CorsPolicy;
  /** Overrides outbound.httpAgent. */
  agent?: http.Agent;
}

interface Pending {
  t: number;
  start: number;
  route: RouteMatch;
  path: string;
  search: URLSearchParams;
  body: Buffer;
  /** The request to the upstream, once it has a socket (to tell a reused keep-alive socket). */
  upstreamReq?: ClientRequest;
  /** When the upstream request got its socket. */
  sentAt?: number;
  retried?: boolean;
  /** Releases the cassette writer's hold on events after `t` (see Capture.hold); safe to call twice. */
  release: () => void;
}

// Errors that mean a pooled keep-alive socket was closed by the upstream as the request went out.
const STALE_SOCKET = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);
// A stale pooled socket fails at once. A reset after this long means the upstream had the request (and may
// have acted on it: a POST to a bot), so it is reported, not sent again.
const STALE_WINDOW_MS = 5;

/** What the recorder asks the upstream for, whatever the client accepts: every encoding decode.ts reads. */
export const UPSTREAM_ACCEPT_ENCODING = 'gzip, deflate, br';

export class HttpExchange {
  private readonly proxy: httpProxy;
  private readonly pending = new WeakMap<IncomingMessage, Pending>();
  private readonly agent: http.Agent;
  private readonly upstreamHost: Buffer;

  constructor(private readonly opts: HttpExchangeOptions) {
    // Keep-alive to the upstream (outbound.ts): one TLS handshake per connection, not per request.
    this.agent = opts.agent ?? opts.outbound.httpAgent;
    this.upstreamHost = Buffer.from(new URL(opts.upstream.origin).host);
    this.proxy = httpProxy.createProxyServer({
      target: opts.upstream.origin,
      changeOrigin: true, // the service rejects a Host that is not its own (SNI follows it)
      selfHandleResponse: true,
      xfwd: false,
      secure: !opts.outbound.insecure,
      agent: this.agent,
      headers: { 'accept-encoding': UPSTREAM_ACCEPT_ENCODING }, // replaces the client's (kept in req.headers)
    });
    this.proxy.on('proxyRes', (proxyRes, req, res) => this.onProxyRes(proxyRes, req, res as ServerResponse));
    this.proxy.on('proxyReq', (proxyReq, req) => {
      const p = this.pending.get(req);
      if (p) {
        p.upstreamReq = proxyReq;
        p.sentAt = performance.now();
      }
    });
    this.proxy.on('error', (err, req, res) => this.onProxyError(err as NodeJS.ErrnoException, req, res as ServerResponse));
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { upstream, logger } = this.opts;
    // Only origin-form targets: an absolute URL or an authority here would make us an open proxy.
    if (!req.url || !req.url.startsWith('/')) {
      sendError(res, 400, 'BadArgument', 'directline-vcr accepts only path requests (origin-form); it forwards to its configured upstream only');
      return;
    }
    const url = new URL(req.url, 'http://proxy.invalid');
    // Every answer (errors included) carries our CORS headers; a preflight is answered here (not recorded,
    // trap 14): the upstream may answer none, and only a local answer can grant Private Network Access.
    const cors = this.opts.cors;
    for (const [k, v] of Object.entries(cors.headers(req))) res.setHeader(k, v);
    if (req.method === 'OPTIONS') {
      cors.answerPreflight(req, res);
      req.resume();
      return;
    }
    const refusal = cors.refusal(req);
    if (refusal) {
      logger.warn({ method: req.method, path: url.pathname, origin: req.headers.origin }, `refused: ${refusal}`);
      sendError(res, 403, 'OriginNotAllowed', refusal);
      req.resume();
      return;
    }
    // An attachment URL this recorder handed out: forwarded to the upstream even outside the base path.
    const handedOut = req.method === 'GET' ? this.opts.attachmentUrls.lookup(url.pathname) : undefined;
    const sub = stripBase(url.pathname, upstream.basePath);
    if (sub === null && !handedOut) {
      sendError(res, 404, 'NotFound', `directline-vcr forwards only ${upstream.basePath || '/'}/… to ${upstream.origin}; ${url.pathname} is outside it`);
      return;
    }
    let body: Buffer;
    try {
      body = await readRequestBody(req, this.opts.maxBodyBytes);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        sendBodyTooLarge(res, err);
        return;
      }
      res.destroy();
      return;
    }
    const route: RouteMatch = handedOut ? { route: 'attachment', conversationId: handedOut.conversationId } : matchRoute(req.method ?? 'GET', sub ?? '/');
    const t = this.opts.capture?.now() ?? 0;
    // Events after t stay off the disk until this exchange is in the cassette, so it needs no rewrite.
    const release = this.opts.capture?.hold(t) ?? (() => {});
    res.once('close', release); // an exchange that is never captured (client gone) must not hold the writer
    this.pending.set(req, { t, start: performance.now(), route, path: url.pathname, search: url.searchParams, body, release });
    logger.debug({ method: req.method, route: route.route, path: url.pathname }, 'request');
    this.proxy.web(req, res, { buffer: Readable.from([body]) });
  }

  private onProxyRes(proxyRes: IncomingMessage, req: IncomingMessage, res: ServerResponse): void {
    // A proxy that refused the tunnel answered in the upstream's place: that is no upstream answer.
    const refused = this.opts.outbound.proxyRefusal((proxyRes as IncomingMessage & { req?: ClientRequest }).req);
    if (refused) {
      proxyRes.resume();
      const err: NodeJS.ErrnoException = new Error(`the proxy answered ${refused.statusCode} ${refused.statusText} to CONNECT ${new URL(this.opts.upstream.origin).host}`.trim());
      err.code = 'PROXY_TUNNEL_REFUSED';
      this.onProxyError(err, req, res);
      return;
    }
    const p = this.pending.get(req);
    const chunks: Buffer[] = [];
    proxyRes.on('data', (c: Buffer) => chunks.push(c));
    proxyRes.on('error', (err) => this.onProxyError(err as NodeJS.ErrnoException, req, res));
    proxyRes.on('end', () => {
      const raw = Buffer.concat(chunks);
      const status = proxyRes.statusCode ?? 502;
      const encoding = proxyRes.headers['content-encoding'] as string | undefined;
      let decoded: Buffer;
      let decodedOk = true;
      try {
        decoded = decodeContent(raw, encoding);
      } catch (err) {
        this.opts.logger.warn({ err: (err as Error).message, encoding }, 'could not decode the upstream body; recording it as received');
        decoded = raw;
        decodedOk = false;
      }
      const contentType = proxyRes.headers['content-type'] as string | undefined;
      // An attachment is a file: kept byte for byte (base64, its Content-Type among the headers), never rewritten.
      const attachment = p?.route.route === 'attachment';
      const body: Body = attachment ? (decoded.length ? { base64: decoded.toString('base64') } : null) : encodeBody(decoded, contentType);
      // The client gets the upstream's bytes when it accepts their encoding and no URL has to point at us;
      // otherwise the decoded bytes, without Content-Encoding.
      let clientBody: Buffer = raw;
      let clientEncodingDropped = false;
      if (decodedOk && decoded !== raw && !acceptsEncoding(req.headers['accept-encoding'], encoding)) {
        clientBody = decoded;
        clientEncodingDropped = true;
      }
      let conversationId = p?.route.conversationId ?? null;
      if (!attachment && body && 'json' in body && body.json && typeof body.json === 'object') {
        const cid = (body.json as { conversationId?: unknown }).conversationId;
        if (!conversationId && typeof cid === 'string') conversationId = cid;
      }
      // Only a body that names a stream URL or the upstream's host can need rewriting (a cheap byte scan
      // spares the clone and walk for most responses, e.g. every POST .../activities).
      if (!attachment && body && 'json' in body && body.json && typeof body.json === 'object' && mayNeedRewrite(decoded, this.upstreamHost)) {
        const forClient = structuredClone(body.json);
        const wsOrigin = this.opts.proxyWsOrigin(req);
        const streams = rewriteStreamUrls(forClient, (u) => this.opts.streamUrls.rewrite(u, wsOrigin));
        const files = this.opts.attachmentUrls.rewriteJson(forClient, this.opts.proxyOrigin(req), conversationId);
        if (streams || files) {
          clientBody = Buffer.from(JSON.stringify(forClient));
          clientEncodingDropped = true;
        }
      }
      const headers: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(proxyRes.headers)) {
        if (v === undefined || isHopByHop(k)) continue;
        if (clientEncodingDropped && k === 'content-encoding') continue;
        if (k.startsWith('access-control-')) continue; // CORS is ours (set in handle())
        headers[k] = v;
      }
      const ourVary = res.getHeader('vary');
      if (ourVary && headers.vary) headers.vary = `${String(headers.vary)}, ${String(ourVary)}`;
      headers['content-length'] = String(clientBody.length);
      res.writeHead(status, proxyRes.statusMessage, headers);
      res.end(clientBody);
      if (!p || p.t < 0) return;
      const duration = Math.round((performance.now() - p.start) * 1000) / 1000;
      const reqContentType = req.headers['content-type'];
      this.opts.capture?.http({
        t: p.t,
        conversationId,
        route: p.route.route,
        method: req.method ?? 'GET',
        path: p.path,
        query: queryOf(p.search),
        requestHeaders: pickRequestHeaders(req.headers),
        requestBody: encodeBody(p.body, reqContentType),
        response: { status, headers: pickResponseHeaders(proxyRes.headers), body },
        duration,
      });
      p.release();
      this.opts.logger.info({ method: req.method, route: p.route.route, status, ms: Math.round(duration), conversationId, activities: countActivities(body) }, `${req.method} ${p.route.route} → ${status}`);
    });
  }

  private onProxyError(err: NodeJS.ErrnoException, req: IncomingMessage, res: ServerResponse): void {
    const p = this.pending.get(req);
    // The upstream closed an idle pooled connection just as this request went out on it: it never saw the
    // request, so send it once more on a fresh connection (the race Node documents for reusedSocket).
    const stale = p?.upstreamReq?.reusedSocket && STALE_SOCKET.has(err.code ?? '') && performance.now() - (p.sentAt ?? 0) < STALE_WINDOW_MS;
    if (p && stale && !p.retried && !res.headersSent) {
      p.retried = true;
      p.upstreamReq = undefined;
      this.opts.logger.debug({ route: p.route.route, code: err.code }, 'pooled upstream connection was closed; sending the request again');
      this.proxy.web(req, res, { buffer: Readable.from([p.body]) });
      return;
    }
    this.pending.delete(req);
    const { code: errorCode, message } = this.opts.outbound.describeError(err, 'request');
    this.opts.logger.error({ route: p?.route.route, code: err.code, upstream: this.opts.upstream.origin, proxy: this.opts.outbound.proxy ?? undefined }, message);
    if (!res.headersSent && !res.destroyed) sendError(res, 502, errorCode, message);
    if (!p || p.t < 0) return;
    this.opts.capture?.http({
      t: p.t,
      conversationId: p.route.conversationId,
      route: p.route.route,
      method: req.method ?? 'GET',
      path: p.path,
      query: queryOf(p.search),
      requestHeaders: pickRequestHeaders(req.headers),
      requestBody: encodeBody(p.body, req.headers['content-type']),
      response: null,
      error: { code: err.code ?? 'UPSTREAM_ERROR', message },
      duration: Math.round((performance.now() - p.start) * 1000) / 1000,
    });
    p.release();
  }

  close(): void {
    this.proxy.close();
    this.agent.destroy();
  }
}

/** Whether an Accept-Encoding header takes `encoding` (identity always; `q=0` refuses; `*` matches). */
export function acceptsEncoding(acceptEncoding: string | string[] | undefined, encoding: string | undefined): boolean {
  const enc = (encoding ?? '').trim().toLowerCase();
  if (!enc || enc === 'identity') return true;
  const header = Array.isArray(acceptEncoding) ? acceptEncoding.join(',') : acceptEncoding ?? '';
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

function countActivities(body: ReturnType<typeof encodeBody>): number | undefined {
  return body && 'json' in body && isActivitySet(body.json) ? body.json.activities.length : undefined;
}

function mayNeedRewrite(body: Buffer, upstreamHost: Buffer): boolean {
  return body.includes('treamUrl') || body.includes('treamurl') || body.includes('TREAMURL') || body.includes(upstreamHost);
}
