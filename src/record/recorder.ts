// `directline-vcr record` as a library: an HTTP server that forwards Direct Line traffic to one
// upstream and writes everything it sees to a cassette.
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { basename } from 'node:path';
import type { Logger } from 'pino';
import { CassetteWriter } from '../cassette/store.js';
import { Redactor, type RedactionRules } from '../cassette/redact.js';
import { silentLogger } from '../log.js';
import { sendError } from '../protocol/errors.js';
import { CorsPolicy } from '../net/cors.js';
import { loadListenerTls, type ListenerTls } from '../net/pem.js';
import { createOutbound } from './outbound.js';
import { Capture } from './capture.js';
import { HttpExchange } from './http-exchange.js';
import { StreamUrls } from './stream-urls.js';
import { AttachmentUrls } from './attachment-urls.js';
import { parseUpstream, DEFAULT_UPSTREAM } from './upstream.js';
import { WsRelay } from './ws-relay.js';
import { createDemoPage } from '../web/index.js';
import { attachForwardProxy, interceptedOrigin, type ForwardOptions, type ForwardProxy } from '../forward/proxy.js';

/** How long a stopping recorder waits for exchanges still in flight, so they reach the cassette. */
const SHUTDOWN_GRACE_MS = 2000;

export interface RecordOptions {
  /** Upstream Direct Line URL including its path prefix. Default: the hosted service. */
  upstream?: string;
  /** Cassette file to write. Omit (or mode 'passthrough') to proxy and log without recording. */
  cassette?: string;
  port?: number;
  host?: string;
  logger?: Logger;
  redact?: RedactionRules;
  /** Longest time an event waits in memory before it reaches the disk (ms). Default 200. */
  flushIntervalMs?: number;
  /** Requests with larger bodies get 413. Default 16 MiB (uploads). */
  maxBodyBytes?: number;
  /** Append to an existing cassette instead of rewriting it. */
  append?: boolean;
  /**
   * Serve the Web Chat demo page at / (and Web Chat's bundle at /webchat.js, see src/web/). The person gives
   * the secret or token in the browser, never to the recorder. Default false.
   */
  demoPage?: boolean;
  /**
   * Extra CA certificates trusted for the upstream (and an https proxy), on top of Node's roots, the system
   * store and NODE_EXTRA_CA_CERTS: PEM text or a path to a PEM file, or several.
   */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Do not verify the upstream's certificate (a warning is logged at every start). Default false. */
  insecure?: boolean;
  /**
   * Outbound proxy for the upstream leg (HTTP and WebSocket), e.g. 'http://proxy.corp:8080'. It wins over the
   * environment (HTTPS_PROXY/HTTP_PROXY/NO_PROXY), which is used when this is undefined; false = no proxy at all.
   */
  proxy?: string | false;
  /**
   * Listen with TLS: `url` becomes https://… and the streamUrls handed out wss://…. Each of cert and key is
   * PEM text or a path to a PEM file (cert: the leaf first, then any intermediates).
   */
  tls?: ListenerTls;
  /**
   * Browser origins allowed to call the recorder (CORS, WebSocket Origin), e.g. ['https://my-app.example'];
   * the recorder's own origin (its demo page) is always allowed. Default: any origin.
   */
  allowOrigin?: string[];
  /**
   * Also be an HTTPS forward proxy (CONNECT) for clients that cannot change their domain: Direct Line hosts are
   * intercepted with a local CA (~/.directline-vcr/ca.pem), other hosts tunnelled or refused. See src/forward/.
   */
  forward?: boolean | ForwardOptions;
}

export interface Recorder {
  /** http://host:port (https:// with options.tls) */
  url: string;
  /** What a Direct Line client passes as `domain`: url + the upstream's path prefix. */
  domain: string;
  port: number;
  cassettePath: string | null;
  /** url + '/' when the Web Chat demo page is served (options.demoPage), else null. */
  demoPageUrl: string | null;
  /** Number of events captured so far. */
  eventCount(): number;
  /** Writes everything captured so far to disk. */
  flush(): Promise<void>;
  /** Stops accepting, closes every stream (captured as closed by the proxy) and writes the cassette. */
  close(): Promise<void>;
}

export async function startRecorder(opts: RecordOptions): Promise<Recorder> {
  const logger = opts.logger ?? silentLogger();
  const upstream = parseUpstream(opts.upstream ?? DEFAULT_UPSTREAM);
  const listenerTls = opts.tls ? loadListenerTls(opts.tls) : null;
  const outbound = createOutbound(upstream, { ca: opts.ca, insecure: opts.insecure, proxy: opts.proxy });
  const cors = new CorsPolicy(opts.allowOrigin, Boolean(listenerTls));
  // Rules are checked (a bad JSON path throws) before the cassette file is created or truncated.
  const redactor = new Redactor(opts.redact);
  const host = opts.host ?? '127.0.0.1';
  let port = opts.port ?? 0;
  // Listen before the cassette is touched: a busy port must not cost the user an existing cassette.
  const server = listenerTls ? https.createServer({ cert: listenerTls.cert, key: listenerTls.key }) : http.createServer();
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  let writer: CassetteWriter | null = null;
  let forward: ForwardProxy | null = null;
  try {
    forward = opts.forward ? await attachForwardProxy(server, opts.forward === true ? {} : opts.forward, logger) : null;
    writer = opts.cassette
      ? await CassetteWriter.create(opts.cassette, { upstream: { origin: upstream.origin, basePath: upstream.basePath }, flushIntervalMs: opts.flushIntervalMs, append: opts.append })
      : null;
  } catch (err) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    outbound.close();
    throw err;
  }
  const capture = writer ? new Capture(writer, redactor, (err, what) => logger.error({ err: err.message }, `could not capture a ${what}; it was relayed but is not in the cassette`)) : null;
  const streamUrls = new StreamUrls();
  const attachmentUrls = new AttachmentUrls(upstream.origin);
  // wss:// when we listen with TLS: a page served over https may not open ws:// (mixed content).
  const proxyWsOrigin = (req: IncomingMessage) => interceptedOrigin(req)?.replace(/^http/, 'ws') ?? `${listenerTls ? 'wss' : 'ws'}://${req.headers.host ?? `${host}:${port}`}`;
  // Where the client fetches the attachment URLs the upstream hands out (trap 15).
  const proxyOrigin = (req: IncomingMessage) => interceptedOrigin(req) ?? `${listenerTls ? 'https' : 'http'}://${req.headers.host ?? `${host}:${port}`}`;
  const maxBodyBytes = opts.maxBodyBytes ?? 16 * 1024 * 1024;
  const exchange = new HttpExchange({ upstream, capture, streamUrls, logger, maxBodyBytes, proxyWsOrigin, attachmentUrls, proxyOrigin, outbound, cors });
  const relay = new WsRelay({
    upstream, capture, streamUrls, logger, maxFrameBytes: maxBodyBytes, wsOptions: outbound.wsOptions, outbound, cors,
    attachments: { urls: attachmentUrls, proxyOrigin },
  });

  const demoPage = opts.demoPage
    ? createDemoPage({ mode: 'record', basePath: upstream.basePath, title: writer ? basename(writer.file) : null, credentials: 'ask', logger })
    : null;

  // Exchanges still waiting for the upstream: on stop they get a short grace period to finish and be recorded.
  let inFlight = 0;
  let drained: (() => void) | null = null;
  const handler = (req: IncomingMessage, res: http.ServerResponse): void => {
    if (demoPage?.(req, res)) return;
    inFlight++;
    res.once('close', () => {
      if (--inFlight === 0) drained?.();
    });
    exchange.handle(req, res).catch((err: Error) => {
      logger.error({ err: err.message }, 'request failed');
      sendError(res, 500, 'InternalError', `directline-vcr: ${err.message}`);
    });
  };
  server.on('request', handler);
  server.on('upgrade', (req, socket, head) => relay.handleUpgrade(req, socket, head));

  const url = `${listenerTls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info({ upstream: upstream.origin + upstream.basePath, cassette: writer?.file ?? null, url }, `recording ${upstream.origin}${upstream.basePath} at ${url}${upstream.basePath}`);
  logger.info({
    proxy: outbound.proxy, proxySource: outbound.proxySource, trust: outbound.trust?.sources, allowOrigin: cors.describe(),
  }, outbound.proxy ? `upstream traffic goes through the outbound proxy ${outbound.proxy}` : 'upstream traffic goes direct (no outbound proxy)');
  if (outbound.insecure) {
    logger.warn({ upstream: upstream.origin }, `--insecure: the certificate of ${upstream.origin}${outbound.proxy ? ` and of the proxy` : ''} is NOT verified; anyone on the path can read and change the traffic, secrets included. Trust its CA with --ca <file> instead.`);
  }

  let closing: Promise<void> | null = null;
  return {
    url,
    domain: url + upstream.basePath,
    port,
    cassettePath: writer?.file ?? null,
    demoPageUrl: demoPage ? `${url}/` : null,
    eventCount: () => writer?.data.events.length ?? 0,
    flush: () => writer?.flush() ?? Promise.resolve(),
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        await relay.closeAll();
        forward?.close();
        server.closeIdleConnections();
        if (inFlight > 0) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, SHUTDOWN_GRACE_MS);
            drained = () => { clearTimeout(timer); resolve(); };
          });
        }
        server.closeAllConnections();
        exchange.close();
        outbound.close();
        await stopped;
        await writer?.close();
        logger.info({ events: writer?.data.events.length ?? 0, cassette: writer?.file ?? null }, 'recorder stopped; cassette written');
      })();
      return closing;
    },
  };
}
