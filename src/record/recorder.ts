// `directline-vcr record` as a library: an HTTP server that forwards Direct Line traffic to one
// upstream and writes everything it sees to a cassette.
import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename } from 'node:path';
import type { Logger } from 'pino';
import { CassetteWriter } from '../cassette/store.js';
import { Redactor, type RedactionRules } from '../cassette/redact.js';
import { silentLogger } from '../log.js';
import { sendError } from '../protocol/errors.js';
import { Capture } from './capture.js';
import { HttpExchange } from './http-exchange.js';
import { StreamUrls } from './stream-urls.js';
import { parseUpstream, DEFAULT_UPSTREAM } from './upstream.js';
import { WsRelay } from './ws-relay.js';
import { createDemoPage } from '../web/index.js';

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
}

export interface Recorder {
  /** http://host:port */
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
  const writer = opts.cassette
    ? await CassetteWriter.create(opts.cassette, { upstream: { origin: upstream.origin, basePath: upstream.basePath }, flushIntervalMs: opts.flushIntervalMs, append: opts.append })
    : null;
  const capture = writer ? new Capture(writer, new Redactor(opts.redact)) : null;
  const streamUrls = new StreamUrls();
  const host = opts.host ?? '127.0.0.1';
  let port = opts.port ?? 0;
  const proxyWsOrigin = (req: IncomingMessage) => `ws://${req.headers.host ?? `${host}:${port}`}`;
  const maxBodyBytes = opts.maxBodyBytes ?? 16 * 1024 * 1024;
  const exchange = new HttpExchange({ upstream, capture, streamUrls, logger, maxBodyBytes, proxyWsOrigin });
  const relay = new WsRelay({ upstream, capture, streamUrls, logger, maxFrameBytes: maxBodyBytes });

  const demoPage = opts.demoPage
    ? createDemoPage({ mode: 'record', basePath: upstream.basePath, title: writer ? basename(writer.file) : null, credentials: 'ask', logger })
    : null;

  const server = http.createServer((req, res) => {
    if (demoPage?.(req, res)) return;
    exchange.handle(req, res).catch((err: Error) => {
      logger.error({ err: err.message }, 'request failed');
      sendError(res, 500, 'InternalError', `directline-vcr: ${err.message}`);
    });
  });
  server.on('upgrade', (req, socket, head) => relay.handleUpgrade(req, socket, head));
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
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info({ upstream: upstream.origin + upstream.basePath, cassette: writer?.file ?? null, url }, `recording ${upstream.origin}${upstream.basePath} at ${url}${upstream.basePath}`);

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
        server.closeAllConnections();
        exchange.close();
        await stopped;
        await writer?.close();
        logger.info({ events: writer?.data.events.length ?? 0, cassette: writer?.file ?? null }, 'recorder stopped; cassette written');
      })();
      return closing;
    },
  };
}
