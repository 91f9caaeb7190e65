// The HTTP half of the recorder: takes each request at the front door, answers what is ours to answer (CORS
// preflights, refused origins, paths outside the base path, oversized bodies) and hands every other request,
// read whole, to an HttpExchange that forwards it through http-proxy and records it. GETs of attachment URLs the
// upstream handed out are forwarded too (route Route.attachment), even outside the base path (attachment-urls.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyTooLargeError, readRequestBodyThen, sendBodyTooLarge } from '../net/request-body.js';
import { sendError } from '../protocol/errors.js';
import { matchRoute, Route, stripBase, type RouteMatch } from '../protocol/routes.js';
import type { RecordContext } from './context.js';
import { ExchangeProxy, HttpExchange } from './http-exchange.js';

/** A request on its way in, while its body is read. */
interface Admitted {
  forwarder: HttpForwarder;
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  route: RouteMatch;
}

// Module level (no closure per request): readRequestBodyThen hands back the request it was given.
const onBody = (a: Admitted, err: Error | null, body?: Buffer): void => a.forwarder.onBody(a, err, body);

export class HttpForwarder {
  /** Exchanges still waiting for the upstream: on stop they get a grace period to finish and be recorded. */
  private inFlight = 0;
  private drained: (() => void) | null = null;

  private readonly proxy: ExchangeProxy;

  constructor(private readonly ctx: RecordContext) {
    this.proxy = new ExchangeProxy(ctx);
  }

  /** The front door's handler: every request that reaches it is answered. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): boolean => {
    this.inFlight++;
    res.once('close', this.onAnswered);
    try {
      this.forward(req, res);
    } catch (err) {
      this.failed(res, err as Error);
    }
    return true;
  };

  private readonly onAnswered = (): void => {
    if (--this.inFlight === 0) this.drained?.();
  };

  private failed(res: ServerResponse, err: Error): void {
    this.ctx.logger.error({ err: err.message }, 'request failed');
    sendError(res, 500, 'InternalError', `directline-vcr: ${err.message}`);
  }

  /** Resolves when no exchange is in flight, or after `graceMs`. */
  async drain(graceMs: number): Promise<void> {
    if (this.inFlight === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, graceMs);
      this.drained = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    const { upstream, logger, cors } = this.ctx;
    // Only origin-form targets: an absolute URL or an authority here would make us an open proxy.
    if (!req.url?.startsWith('/')) {
      sendError(
        res,
        400,
        'BadArgument',
        'directline-vcr accepts only path requests (origin-form); it forwards to its configured upstream only',
      );
      return;
    }
    const url = new URL(req.url, 'http://proxy.invalid');
    // Every answer (errors included) carries our CORS headers; a preflight is answered here (not recorded):
    // the upstream may answer none, and only a local answer can grant Private Network Access (src/net/cors.ts).
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
    const route = this.routeOf(req, url);
    if (!route) {
      sendError(
        res,
        404,
        'NotFound',
        `directline-vcr forwards only ${upstream.basePath || '/'}/… to ${upstream.origin}; ${url.pathname} is outside it`,
      );
      return;
    }
    // The capture worker is behind (capture-client.ts): the request waits, unread, until it has caught up.
    const capture = this.ctx.capture;
    if (capture?.backedUp) capture.whenDrained(() => this.admit(req, res, url, route));
    else this.admit(req, res, url, route);
  }

  /** Reads the body (held to the size limit: nothing is forwarded half), then has an exchange send it on. */
  private admit(req: IncomingMessage, res: ServerResponse, url: URL, route: RouteMatch): void {
    readRequestBodyThen(req, this.ctx.maxBodyBytes, onBody, { forwarder: this, req, res, url, route });
  }

  /** The body is in (readRequestBodyThen calls back through onBody): an exchange sends the request on, or 413. */
  onBody(a: Admitted, err: Error | null, body?: Buffer): void {
    const { req, res, url, route } = a;
    if (err) {
      if (err instanceof BodyTooLargeError) sendBodyTooLarge(res, err);
      else res.destroy();
      return;
    }
    const { logger } = this.ctx;
    if (logger.isLevelEnabled('debug')) logger.debug({ method: req.method, route: route.route, path: url.pathname }, 'request');
    try {
      new HttpExchange(this.ctx, this.proxy, { req, res, route, url, body: body as Buffer }).send();
    } catch (e) {
      this.failed(res, e as Error);
    }
  }

  /** The request's route, or null when it is not ours to forward. */
  private routeOf(req: IncomingMessage, url: URL): RouteMatch | null {
    // An attachment URL this recorder handed out: forwarded to the upstream even outside the base path.
    const handedOut = req.method === 'GET' ? this.ctx.attachmentUrls.lookup(url.pathname) : undefined;
    if (handedOut) return { route: Route.attachment, conversationId: handedOut.conversationId };
    const sub = stripBase(url.pathname, this.ctx.upstream.basePath);
    return sub === null ? null : matchRoute(req.method ?? 'GET', sub);
  }
}
