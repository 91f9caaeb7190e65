// `directline-vcr replay` as a library: serves a cassette as a Direct Line 3.0 endpoint (HTTP + WebSocket)
// that unchanged clients can talk to. See server.ts (wiring), session.ts (one replaying client),
// conversation-model.ts (what a recorded conversation becomes), scheduler.ts (causal timing),
// matcher.ts (matching), substitute.ts (recorded → live values), stream.ts (WebSocket delivery).
import { basename } from 'node:path';
import { loadCassette, validateCassette } from '../cassette/load.js';
import type { Cassette } from '../cassette/schema.js';
import { silentLogger } from '../log.js';
import { CorsPolicy } from '../net/cors.js';
import { loadListenerTls } from '../net/pem.js';
import { Catalog } from './catalog.js';
import { FaultPlan } from '../faults/plan.js';
import { createDemoPage, replayDemoPageOptions } from '../web/index.js';
import { ReplayServer } from './server.js';
import type { ReplayOptions, Replayer } from './types.js';
import { attachForwardProxy } from '../forward/proxy.js';
import { LIVE_PREFIX, replayInspector } from '../inspector/index.js';
import { checkInstanceId } from './instance.js';

export type { ReplayOptions, Replayer, ReplaySummary, UnmatchedRequest } from './types.js';
export { MISMATCH_DIFFERENT, MISMATCH_NOT_FOUND } from './server.js';

export async function startReplayer(opts: ReplayOptions): Promise<Replayer> {
  const speed = opts.speed ?? 1;
  if (typeof speed !== 'number' || Number.isNaN(speed) || speed < 0) {
    throw new RangeError(`speed must be a number ≥ 0 (0 or Infinity = instant), got ${String(opts.speed)}`);
  }
  const instance = opts.instance === undefined ? undefined : checkInstanceId(opts.instance);
  if (opts.publicUrl !== undefined) checkPublicUrl(opts.publicUrl);
  const logger = (opts.logger ?? silentLogger()).child({ component: 'replay', ...(instance === undefined ? {} : { instance }) });
  // Rules are checked before anything is loaded or listens: a bad one throws FaultRuleError.
  const faults = new FaultPlan(opts.faults ?? [], { seed: opts.seed, logger });
  let cassette: Cassette;
  let file: string | undefined;
  if (typeof opts.cassette === 'string') {
    file = opts.cassette;
    cassette = await loadCassette(file);
  } else {
    cassette = validateCassette(opts.cassette);
  }
  const catalog = new Catalog(cassette);
  const demoPage = opts.demoPage ? createDemoPage({ ...replayDemoPageOptions(cassette, file), logger }) : null;
  const tls = opts.tls ? loadListenerTls(opts.tls) : null;
  const cors = new CorsPolicy(opts.allowOrigin, Boolean(tls));
  const match = opts.match ?? 'strict';
  if (match !== 'strict' && match !== 'loose') throw new RangeError(`match must be 'strict' or 'loose', got ${String(opts.match)}`);
  const inspector = opts.inspector
    ? replayInspector(cassette, file ? basename(file) : 'cassette', {
        logger,
        ...(typeof opts.inspector === 'object' ? opts.inspector : {}),
      })
    : null;
  const server = new ReplayServer({
    catalog,
    speed,
    logger,
    publicUrl: opts.publicUrl,
    cassetteFile: file,
    demoPage,
    tls,
    cors,
    faults,
    observe: inspector?.observe,
    instance,
    match,
    sessionIdleMs: opts.sessionIdleMs,
  });
  if (inspector) server.door.handle(inspector.handler, 'first'); // /_vcr/ before the demo page and Direct Line routes
  const host = opts.host ?? '127.0.0.1';
  const { port, url } = await server.listen(opts.port ?? 0, host);
  const forward = opts.forward
    ? await attachForwardProxy(server.door.server, opts.forward === true ? {} : opts.forward, logger).catch(async (err: Error) => {
        await server.close();
        throw err;
      })
    : null;
  logger.info(
    { url, basePath: catalog.basePath, conversations: catalog.models.length, speed, match, allowOrigin: cors.describe() },
    'replay server listening',
  );
  if (faults.active) logger.info({ faults: faults.ruleTexts, seed: faults.seed }, `injecting ${faults.ruleTexts.length} fault rule(s)`);
  return {
    url,
    domain: url + catalog.basePath,
    port,
    demoPageUrl: demoPage ? `${url}/` : null,
    inspectorUrl: inspector ? url + LIVE_PREFIX : null,
    summary: () => server.summary(),
    inject: (rule) => {
      const r = faults.inject(rule);
      logger.info({ fault: r.text }, 'fault rule added');
    },
    clearFaults: () => faults.clear(),
    injectedFaults: () => faults.injected(),
    close: () => {
      forward?.close();
      inspector?.handler.close(); // ends the page's live stream, which would hold the server open
      return server.close();
    },
  };
}

/** publicUrl must be an absolute http(s) or ws(s) origin: streamUrls are built from it. */
function checkPublicUrl(raw: string): void {
  let url: URL | null = null;
  try {
    url = new URL(raw);
  } catch {
    url = null;
  }
  if (!url || !/^(https?|wss?):$/.test(url.protocol)) {
    const got = JSON.stringify(raw);
    throw new RangeError(
      `publicUrl must be an absolute http://, https://, ws:// or wss:// URL (where clients reach this server), ` + `got ${got}`,
    );
  }
}
