// The HTTP half of the recorder: forwards each request to the upstream with http-proxy, answers the
// client with the upstream's answer (streamUrl rewritten), and captures the exchange.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import httpProxy from 'http-proxy';
import type { Logger } from 'pino';
import { encodeBody } from '../cassette/body.js';
import { matchRoute, stripBase } from '../protocol/routes.js';
import { sendError } from '../protocol/errors.js';
import { isActivitySet } from '../protocol/types.js';
import { Capture, pickRequestHeaders, pickResponseHeaders, queryOf } from './capture.js';
import { decodeContent } from './decode.js';
import { rewriteStreamUrls, type StreamUrls } from './stream-urls.js';
import type { Upstream } from './upstream.js';

export interface HttpExchangeOptions {
  upstream: Upstream;
  capture: Capture | null; // null = passthrough (log only)
  streamUrls: StreamUrls;
  logger: Logger;
  maxBodyBytes: number;
  /** ws origin clients should use for the stream, from the Host they reached us by. */
  proxyWsOrigin: (req: IncomingMessage) => string;
  agent?: http.Agent;
}

interface Pending {
  t: number;
  start: number;
  route: ReturnType<typeof matchRoute>;
  path: string;
  search: URLSearchParams;
  body: Buffer;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'upgrade', 'proxy-connection', 'te', 'trailer']);

export class HttpExchange {
  private readonly proxy: httpProxy;
  private readonly pending = new WeakMap<IncomingMessage, Pending>();
  private readonly agent: http.Agent;

  constructor(private readonly opts: HttpExchangeOptions) {
    // Keep-alive to the upstream: one TLS handshake per connection, not per request.
    this.agent = opts.agent ?? (opts.upstream.secure ? new https.Agent({ keepAlive: true, maxSockets: 256 }) : new http.Agent({ keepAlive: true, maxSockets: 256 }));
    this.proxy = httpProxy.createProxyServer({
      target: opts.upstream.origin,
      changeOrigin: true, // the service rejects a Host that is not its own
      selfHandleResponse: true,
      xfwd: false,
      secure: true,
      agent: this.agent,
    });
    this.proxy.on('proxyRes', (proxyRes, req, res) => this.onProxyRes(proxyRes, req, res as ServerResponse));
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
    const sub = stripBase(url.pathname, upstream.basePath);
    if (sub === null) {
      sendError(res, 404, 'NotFound', `directline-vcr forwards only ${upstream.basePath || '/'}/… to ${upstream.origin}; ${url.pathname} is outside it`);
      return;
    }
    let body: Buffer;
    try {
      body = await readBody(req, this.opts.maxBodyBytes);
    } catch (err) {
      if ((err as Error).message === 'too large') {
        sendError(res, 413, 'BadArgument', `request body over the ${this.opts.maxBodyBytes}-byte limit`);
        req.resume();
        return;
      }
      res.destroy();
      return;
    }
    const route = matchRoute(req.method ?? 'GET', sub);
    if (req.method === 'OPTIONS') {
      // Preflights pass through untouched and are not protocol exchanges (trap 14): not recorded.
      this.pending.set(req, { t: -1, start: performance.now(), route, path: url.pathname, search: url.searchParams, body });
      this.proxy.web(req, res, { buffer: Readable.from([body]) });
      return;
    }
    this.pending.set(req, { t: this.opts.capture?.now() ?? 0, start: performance.now(), route, path: url.pathname, search: url.searchParams, body });
    logger.debug({ method: req.method, route: route.route, path: url.pathname }, 'request');
    this.proxy.web(req, res, { buffer: Readable.from([body]) });
  }

  private onProxyRes(proxyRes: IncomingMessage, req: IncomingMessage, res: ServerResponse): void {
    const p = this.pending.get(req);
    const chunks: Buffer[] = [];
    proxyRes.on('data', (c: Buffer) => chunks.push(c));
    proxyRes.on('error', (err) => this.onProxyError(err as NodeJS.ErrnoException, req, res));
    proxyRes.on('end', () => {
      const raw = Buffer.concat(chunks);
      const status = proxyRes.statusCode ?? 502;
      let decoded: Buffer;
      try {
        decoded = decodeContent(raw, proxyRes.headers['content-encoding'] as string | undefined);
      } catch (err) {
        this.opts.logger.warn({ err: (err as Error).message }, 'could not decode the upstream body; recording it as received');
        decoded = raw;
      }
      const contentType = proxyRes.headers['content-type'] as string | undefined;
      const body = encodeBody(decoded, contentType);
      // The client gets the upstream's bytes unless a streamUrl has to point at us.
      let clientBody = raw;
      let clientEncodingDropped = false;
      let conversationId = p?.route.conversationId ?? null;
      if (body && 'json' in body && body.json && typeof body.json === 'object') {
        const forClient = structuredClone(body.json);
        const wsOrigin = this.opts.proxyWsOrigin(req);
        if (rewriteStreamUrls(forClient, (u) => this.opts.streamUrls.rewrite(u, wsOrigin))) {
          clientBody = Buffer.from(JSON.stringify(forClient));
          clientEncodingDropped = true;
        }
        const cid = (body.json as { conversationId?: unknown }).conversationId;
        if (!conversationId && typeof cid === 'string') conversationId = cid;
      }
      const headers: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(proxyRes.headers)) {
        if (v === undefined || HOP_BY_HOP.has(k)) continue;
        if (clientEncodingDropped && k === 'content-encoding') continue;
        headers[k] = v;
      }
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
      this.opts.logger.info({ method: req.method, route: p.route.route, status, ms: Math.round(duration), conversationId, activities: countActivities(body) }, `${req.method} ${p.route.route} → ${status}`);
    });
  }

  private onProxyError(err: NodeJS.ErrnoException, req: IncomingMessage, res: ServerResponse): void {
    const p = this.pending.get(req);
    this.pending.delete(req);
    const why = err.code ? `${err.code}${err.message && !err.message.includes(err.code) ? ` (${err.message})` : ''}` : err.message;
    const message = `directline-vcr could not reach the upstream ${this.opts.upstream.origin}: ${why}`;
    this.opts.logger.error({ route: p?.route.route, code: err.code, upstream: this.opts.upstream.origin }, message);
    if (!res.headersSent && !res.destroyed) sendError(res, 502, 'UpstreamUnreachable', message);
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
  }

  close(): void {
    this.proxy.close();
    this.agent.destroy();
  }
}

function countActivities(body: ReturnType<typeof encodeBody>): number | undefined {
  return body && 'json' in body && isActivitySet(body.json) ? body.json.activities.length : undefined;
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) return reject(new Error('too large'));
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners('data');
        reject(new Error('too large'));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
