// `directline-vcr record` as a library: an HTTP server that forwards Direct Line traffic to one
// upstream and writes everything it sees to a cassette.
import { basename } from 'node:path';
import type { AppendFileStats } from '../cassette/append-file.js';
import type { Cassette } from '../cassette/schema.js';
import { describeHolder } from '../cassette/lock.js';
import { Redactor } from '../cassette/redact.js';
import { silentLogger, type Logger } from '../log.js';
import { CorsPolicy } from '../net/cors.js';
import { FrontDoor, type Listening } from '../net/front-door.js';
import { loadListenerTls } from '../net/pem.js';
import { createDemoPage } from '../web/index.js';
import { AttachmentUrls } from './attachment-urls.js';
import { CaptureClient } from './capture-client.js';
import type { RecordContext } from './context.js';
import { HttpForwarder } from './http-forwarder.js';
import { withDefaults, type RecordOptions, type ResolvedRecordOptions } from './options.js';
import { createOutbound, type Outbound } from './outbound.js';
import { StreamUrls } from './stream-urls.js';
import { parseUpstream, type Upstream } from './upstream.js';
import { WsRelay } from './ws-relay.js';
import { attachForwardProxy, type ForwardProxy } from '../forward/proxy.js';
import { FaultPlan, type FaultSummary, type InjectedFault } from '../faults/plan.js';
import type { FaultRule } from '../faults/rule.js';
import { LIVE_PREFIX, recordInspector } from '../inspector/index.js';

export type { RecordOptions } from './options.js';

/** How long a stopping recorder waits for exchanges still in flight, so they reach the cassette. */
const SHUTDOWN_GRACE_MS = 2000;

export interface Recorder {
  /** http://host:port (https:// with options.tls) */
  url: string;
  /** What a Direct Line client passes as `domain`: url + the upstream's path prefix. */
  domain: string;
  port: number;
  cassettePath: string | null;
  /** url + '/' when the Web Chat demo page is served (options.demoPage), else null. */
  demoPageUrl: string | null;
  /** url + '/_vcr/' when the inspector is served (options.inspector), else null. */
  inspectorUrl: string | null;
  /** Number of events captured so far. */
  eventCount(): number;
  /** Writes everything captured so far to disk. */
  flush(): Promise<void>;
  /** What the cassette's writes have cost so far (the writer runs in a worker thread); null without a cassette. */
  writeStats(): Promise<AppendFileStats | null>;
  /**
   * A full garbage collection in the capture worker, which has a heap of its own, when the process runs with
   * --expose-gc (for memory measurements: `global.gc()` reaches only the calling thread's heap); else nothing.
   */
  collectGarbage(): Promise<void>;
  /** Adds a fault rule while recording (a bad rule throws FaultRuleError). */
  inject(rule: string | FaultRule): void;
  /** Removes every fault rule. */
  clearFaults(): void;
  /** Faults injected so far, in order. */
  injectedFaults(): InjectedFault[];
  faultSummary(): FaultSummary;
  /** Stops accepting, closes every stream (captured as closed by the proxy) and writes the cassette. */
  close(): Promise<void>;
}

export async function startRecorder(options: RecordOptions): Promise<Recorder> {
  const opts = withDefaults(options);
  const logger = opts.logger ?? silentLogger();
  const upstream = parseUpstream(opts.upstream);
  const tls = opts.tls ? loadListenerTls(opts.tls) : null;
  const outbound = createOutbound(upstream, { ca: opts.ca, insecure: opts.insecure, proxy: opts.proxy });
  const cors = new CorsPolicy(opts.allowOrigin, Boolean(tls));
  // Rules are checked (a bad JSON path throws) before the cassette file is created or truncated.
  new Redactor(opts.redact); // a JSON path that does not parse throws here
  const faults = new FaultPlan(opts.faults ?? [], { seed: opts.seed, logger });
  // Listen before the cassette is touched: a busy port must not cost the user an existing cassette.
  const door = new FrontDoor({ tls, logger });
  const listening = await door.listen(opts.port, opts.host);
  let capture: CaptureClient | null = null;
  let forward: ForwardProxy | null = null;
  let started: Cassette | null = null;
  try {
    forward = opts.forward ? await attachForwardProxy(door.server, opts.forward === true ? {} : opts.forward, logger) : null;
    capture = await startCapture(opts, upstream, listening, logger);
    // The cassette as it stands before anything is recorded (an appended one read back whole), for the inspector.
    started = opts.inspector && capture ? await capture.snapshot() : null;
  } catch (err) {
    await capture?.close().catch(() => undefined);
    forward?.close();
    await door.stopAccepting();
    outbound.close();
    throw err;
  }
  const ctx: RecordContext = {
    upstream,
    outbound,
    cors,
    logger,
    listening,
    secure: Boolean(tls),
    maxBodyBytes: opts.maxBodyBytes,
    capture,
    faults,
    streamUrls: new StreamUrls(),
    attachmentUrls: new AttachmentUrls(upstream.origin),
  };
  const forwarder = new HttpForwarder(ctx);
  const relay = new WsRelay(ctx);
  const pages = mountPages(opts, ctx, door, started);
  door.handle(forwarder.handle).handleUpgrade(relay.handleUpgrade);
  logStart(ctx, capture);
  let closing: Promise<void> | null = null;
  // The inspector's live stream is ended first: it would hold the server open.
  const close = () => {
    if (!closing) {
      forward?.close();
      pages.inspector?.close();
      closing = stop(ctx, { door, forwarder, relay, outbound, capture });
    }
    return closing;
  };
  return recorderApi(ctx, pages, faults, close);
}

/**
 * The capture worker, which creates the cassette and takes its lock (a CassetteLockedError reaches the caller);
 * none without a cassette.
 */
function startCapture(
  opts: ResolvedRecordOptions,
  upstream: Upstream,
  listening: Listening,
  logger: Logger,
): Promise<CaptureClient | null> {
  if (!opts.cassette) return Promise.resolve(null);
  const file = opts.cassette;
  return CaptureClient.start({
    file,
    logger,
    redact: opts.redact ?? {},
    upstream: { origin: upstream.origin, basePath: upstream.basePath },
    flushIntervalMs: opts.flushIntervalMs,
    append: opts.append,
    lock: { port: listening.port, url: listening.url },
    maxQueuedBytes: opts.captureQueueBytes,
    onTakeover: (stale, lockFile) =>
      logger.warn({ lockFile, stale }, `took over the lock of ${file}: its holder (${describeHolder(stale)}) is gone`),
  });
}

interface Pages {
  demoPage: boolean;
  inspector: ReturnType<typeof recordInspector> | null;
}

/** The demo page at / and the live inspector at /_vcr/ (first, before everything), when asked for. */
function mountPages(opts: ResolvedRecordOptions, ctx: RecordContext, door: FrontDoor, started: Cassette | null): Pages {
  const { capture, logger, upstream } = ctx;
  const title = capture ? basename(capture.file) : null;
  if (opts.demoPage) door.handle(createDemoPage({ mode: 'record', basePath: upstream.basePath, title, credentials: 'ask', logger }));
  // The cassette as it stood when recording began, then the capture tap: subscribed before any request is handled.
  const inspectorOptions = typeof opts.inspector === 'object' ? opts.inspector : {};
  const inspector =
    opts.inspector && capture && started
      ? recordInspector(started, basename(capture.file), capture.tap, { logger, ...inspectorOptions })
      : null;
  if (opts.inspector && !inspector) {
    logger.warn('--inspector: nothing is captured without a cassette (passthrough), so there is nothing to inspect');
  }
  if (inspector) door.handle(inspector, 'first'); // /_vcr/ before the demo page and the forwarder
  return { demoPage: Boolean(opts.demoPage), inspector };
}

/** What startRecorder hands its caller. */
function recorderApi(ctx: RecordContext, pages: Pages, faults: FaultPlan, close: () => Promise<void>): Recorder {
  const { capture, listening, upstream, logger } = ctx;
  const { url } = listening;
  return {
    url,
    domain: url + upstream.basePath,
    port: listening.port,
    cassettePath: capture?.file ?? null,
    demoPageUrl: pages.demoPage ? `${url}/` : null,
    inspectorUrl: pages.inspector ? url + LIVE_PREFIX : null,
    eventCount: () => capture?.eventCount ?? 0,
    flush: () => capture?.flush() ?? Promise.resolve(),
    writeStats: () => capture?.stats() ?? Promise.resolve(null),
    collectGarbage: () => capture?.collectGarbage() ?? Promise.resolve(),
    inject: (rule) => {
      const r = faults.inject(rule);
      logger.info({ fault: r.text }, 'fault rule added');
    },
    clearFaults: () => faults.clear(),
    injectedFaults: () => faults.injected(),
    faultSummary: () => faults.summary(),
    close,
  };
}

function logStart(ctx: RecordContext, capture: CaptureClient | null): void {
  const { logger, upstream, outbound, cors, listening, faults } = ctx;
  const url = listening.url;
  logger.info(
    { upstream: upstream.origin + upstream.basePath, cassette: capture?.file ?? null, url },
    `recording ${upstream.origin}${upstream.basePath} at ${url}${upstream.basePath}`,
  );
  logger.info(
    {
      proxy: outbound.proxy,
      proxySource: outbound.proxySource,
      trust: outbound.trust?.sources,
      allowOrigin: cors.describe(),
    },
    outbound.proxy
      ? `upstream traffic goes through the outbound proxy ${outbound.proxy}`
      : 'upstream traffic goes direct (no outbound proxy)',
  );
  if (faults.active) {
    const n = faults.ruleTexts.length;
    const why = `injecting ${n} fault rule(s) into what the client sees; the cassette notes each one`;
    logger.warn({ faults: faults.ruleTexts, seed: faults.seed }, why);
  }
  if (outbound.insecure) {
    logger.warn(
      { upstream: upstream.origin },
      `--insecure: the certificate of ${upstream.origin}${outbound.proxy ? ' and of the proxy' : ''} is NOT verified; ` +
        'anyone on the path can read and change the traffic, secrets included. Trust its CA with --ca <file> instead.',
    );
  }
}

/** Stops accepting, closes every stream (captured as closed by the proxy), lets exchanges finish, writes the cassette. */
async function stop(
  ctx: RecordContext,
  parts: { door: FrontDoor; forwarder: HttpForwarder; relay: WsRelay; outbound: Outbound; capture: CaptureClient | null },
): Promise<void> {
  const { door, forwarder, relay, outbound, capture } = parts;
  const stopped = door.stopAccepting();
  await relay.closeAll();
  door.closeIdleConnections();
  await forwarder.drain(SHUTDOWN_GRACE_MS);
  door.closeAllConnections();
  outbound.close();
  await stopped;
  const closed = await capture?.close();
  const written = { events: closed?.events ?? 0, cassette: capture?.file ?? null, faults: ctx.faults.summary() };
  ctx.logger.info(written, 'recorder stopped; cassette written');
}
