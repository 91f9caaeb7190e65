// routeDirectLine(page | context): every Direct Line request the page makes (HTTP via `route`, the stream
// via `routeWebSocket`) goes to a recorder or replayer started for it, so the page under test keeps its
// hosted-service domain (or Web Chat's default) and needs no change. Nothing else the page loads is touched.
import type { BrowserContext, Page, Route, WebSocketRoute } from 'playwright-core';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import WebSocket from 'ws';
import { loadCassette } from '../cassette/load.js';
import { startVcr, type Vcr } from '../vcr.js';
import type { ReplaySummary } from '../replay/types.js';
import type { RedactionRules } from '../cassette/redact.js';
import type { Logger } from '../log.js';
import { isDirectLineHost } from '../forward/directline-hosts.js';
import { forwardToLocal, rewriteLocalOrigins } from './local-request.js';

export type PlaywrightVcrMode = 'replay' | 'record' | 'auto';
export const PLAYWRIGHT_VCR_MODES: readonly PlaywrightVcrMode[] = ['replay', 'record', 'auto'];

export interface RouteDirectLineOptions {
  /** Cassette file: written in record mode, served in replay mode; auto replays it when it holds a recording. */
  cassette: string;
  mode: PlaywrightVcrMode;
  /** Where record mode sends the traffic (default: the hosted service, https://directline.botframework.com/v3/directline). */
  upstream?: string;
  /** More hosts or origins to route besides the hosted Direct Line hosts, e.g. 'https://bot.example.com'. */
  hosts?: string[];
  /** Replay timing: 1 = as recorded (default), 4 = four times faster, 0 = instant (order kept). */
  speed?: number;
  /** Extra redaction rules for record mode (tokens, secrets and JWTs are always redacted). */
  redact?: RedactionRules;
  logger?: Logger;
  /**
   * Start the recorder or replayer at the first Direct Line request instead of now (the fixture does: a test
   * that never talks to Direct Line then needs no cassette and writes none). Default false.
   */
  lazy?: boolean;
}

export interface DirectLineRoute {
  /** What the server does: 'auto' resolved to 'record' or 'replay'. */
  mode: 'record' | 'replay';
  cassettePath: string;
  /** The recorder or replayer serving this page (its url, domain, summary); null while a lazy route saw no request. */
  readonly vcr: Vcr | null;
  /** Why the server could not start (a lazy route reports it here and fails its requests), else null. */
  readonly startError: Error | null;
  /** Replay: requests matched and unmatched so far; null in record mode. */
  summary(): ReplaySummary | null;
  /** Replay: one paragraph naming every request the cassette could not answer, or null when there was none. */
  mismatchReport(): string | null;
  /** Removes the routes and stops the server (record mode: the cassette is written). */
  close(): Promise<void>;
}

/** The path every hosted client uses; mapped onto the local server's base path. */
const HOSTED_BASE_PATH = '/v3/directline';

export async function routeDirectLine(target: Page | BrowserContext, opts: RouteDirectLineOptions): Promise<DirectLineRoute> {
  if (!PLAYWRIGHT_VCR_MODES.includes(opts.mode)) {
    throw new Error(`routeDirectLine: mode must be one of ${PLAYWRIGHT_VCR_MODES.join(', ')}, got ${JSON.stringify(opts.mode)}`);
  }
  // 'auto' is decided now (as startVcr decides it), so the mode is known before any server runs.
  const mode = opts.mode === 'auto' ? ((await hasRecording(opts.cassette)) ? 'replay' : 'record') : opts.mode;
  const server = new LazyVcr(mode, opts);
  const start = () => server.start();
  if (!opts.lazy) await start();
  const extra = opts.hosts ?? [];
  const localPath = (v: Vcr, pathname: string): string =>
    pathname === HOSTED_BASE_PATH || pathname.startsWith(`${HOSTED_BASE_PATH}/`)
      ? v.domain.slice(v.url.length) + pathname.slice(HOSTED_BASE_PATH.length)
      : pathname;
  const isHttp = (url: URL) => (url.protocol === 'https:' || url.protocol === 'http:') && isDirectLineHost(url.hostname, extra);
  const isWs = (url: URL) => (url.protocol === 'wss:' || url.protocol === 'ws:') && isDirectLineHost(url.hostname, extra);
  let closed = false;
  const sockets = new Set<WebSocket>();

  const onRoute = async (route: Route): Promise<void> => {
    if (closed) return route.abort('connectionrefused');
    const request = route.request();
    const url = new URL(request.url());
    try {
      const vcr = await start();
      const res = await forwardToLocal(
        `${vcr.url}${localPath(vcr, url.pathname)}${url.search}`,
        request.method(),
        await request.allHeaders(),
        request.postDataBuffer(),
      );
      // The server named itself in streamUrls and attachment URLs: the page keeps seeing the host it called.
      const body = rewriteLocalOrigins(
        res.body,
        res.headers['content-type'],
        vcr.url,
        url.protocol === 'http:' ? url.origin : `https://${url.host}`,
      );
      await route.fulfill({ status: res.status, headers: res.headers, body });
    } catch (err) {
      opts.logger?.warn({ err: (err as Error).message, path: url.pathname }, 'routed Direct Line request failed');
      await route.abort('failed').catch(() => undefined);
    }
  };

  const onWebSocket = (page: WebSocketRoute): void => {
    const url = new URL(page.url());
    // A stream URL comes from a routed HTTP answer, so the server runs by now.
    if (closed || !server.vcr) {
      void page.close({ code: 1011, reason: 'directline-vcr: no server for this stream' }).catch(() => undefined);
      return;
    }
    const vcr = server.vcr;
    bridgeStream(page, `${vcr.url.replace(/^http/, 'ws')}${localPath(vcr, url.pathname)}${url.search}`, sockets);
  };

  await target.route(isHttp, onRoute);
  await target.routeWebSocket(isWs, onWebSocket);

  let closing: Promise<void> | null = null;
  let finalSummary: ReplaySummary | null = null;
  const summary = () => finalSummary ?? server.vcr?.summary() ?? null;
  return {
    mode,
    cassettePath: opts.cassette,
    get vcr() {
      return server.vcr;
    },
    get startError() {
      return server.error;
    },
    summary,
    mismatchReport: () => mismatchReport(summary(), opts.cassette),
    close() {
      closing ??= (async () => {
        closed = true;
        await target.unroute(isHttp, onRoute).catch(() => undefined);
        for (const s of sockets) s.terminate();
        const v = await server.started();
        finalSummary = v?.summary() ?? null;
        await v?.close();
      })();
      return closing;
    },
  };
}

/** The recorder or replayer a route sends to, started on first use (or at once, unless `lazy`). */
class LazyVcr {
  vcr: Vcr | null = null;
  error: Error | null = null;
  private starting: Promise<Vcr> | null = null;

  constructor(
    private readonly mode: 'record' | 'replay',
    private readonly opts: RouteDirectLineOptions,
  ) {}

  start(): Promise<Vcr> {
    const { mode, opts } = this;
    // Per-test cassettes live in folders of their own, made when the first one is written.
    this.starting ??= (mode === 'record' ? mkdir(dirname(opts.cassette), { recursive: true }) : Promise.resolve(undefined))
      .then(() =>
        startVcr({ mode, cassette: opts.cassette, upstream: opts.upstream, speed: opts.speed, redact: opts.redact, logger: opts.logger }),
      )
      .then(
        (v) => {
          this.vcr = v;
          const to = mode === 'replay' ? 'the replay' : 'the recorder';
          opts.logger?.info({ mode, cassette: v.cassettePath, server: v.url }, `routing Direct Line to ${to} at ${v.url}`);
          return v;
        },
        (err: Error) => {
          this.error = err;
          throw err;
        },
      );
    return this.starting;
  }

  /** The server once its start settled (null if it never started or failed). */
  async started(): Promise<Vcr | null> {
    return this.starting ? this.starting.catch(() => null) : null;
  }
}

/**
 * Joins the page's stream (intercepted by Playwright) to the local server's: frames both ways, closes mirrored;
 * a refused handshake (a replay mismatch, an expired stream token) closes the page's socket like a dropped one.
 */
function bridgeStream(page: WebSocketRoute, local: string, sockets: Set<WebSocket>): void {
  const server = new WebSocket(local, page.protocols(), { perMessageDeflate: false });
  sockets.add(server);
  const early: Array<string | Buffer> = [];
  const closePage = (code: number, reason: string) => void page.close({ code, reason }).catch(() => undefined);
  page.onMessage((m) => (server.readyState === WebSocket.OPEN ? server.send(m) : early.push(m)));
  page.onClose((code, reason) => {
    if (server.readyState === WebSocket.CONNECTING) server.terminate();
    else server.close(sendableCode(code), reason);
  });
  server.on('open', () => {
    for (const m of early.splice(0)) server.send(m);
  });
  server.on('message', (data: Buffer, isBinary) => page.send(isBinary ? data : data.toString('utf8')));
  server.on('close', (code, reason) => {
    sockets.delete(server);
    closePage(sendableCode(code) ?? 1000, reason.toString('utf8'));
  });
  server.on('unexpected-response', (_req, res) => {
    res.resume();
    sockets.delete(server);
    closePage(1011, `stream refused with ${res.statusCode}`);
  });
  server.on('error', () => {
    sockets.delete(server);
    closePage(1011, 'stream failed');
  });
}

async function hasRecording(file: string): Promise<boolean> {
  if (!existsSync(file)) return false;
  return (await loadCassette(file)).events.length > 0; // a broken cassette is an error, not a reason to overwrite it
}

/** Codes a WebSocket may send in a close frame (1005, 1006 and 1015 only describe what happened). */
function sendableCode(code: number | undefined): number | undefined {
  if (code === undefined || code === 1005 || code === 1006 || code === 1015) return undefined;
  return code;
}

/** What the fixture puts into a failing test: each request the cassette could not answer, and what it expected. */
export function mismatchReport(summary: ReplaySummary | null, cassette: string): string | null {
  if (!summary || summary.unmatched === 0) return null;
  const lines = summary.unmatchedRequests.map(
    (u) =>
      `  No recorded request matches ${u.method} ${u.path} (${u.route}): ${u.reason}${u.expected ? `; expected next: ${u.expected}` : ''}`,
  );
  const more = summary.unmatched > lines.length ? [`  … and ${summary.unmatched - lines.length} more`] : [];
  return [
    `directline-vcr: the cassette ${cassette} could not answer ${summary.unmatched} ` +
      `request${summary.unmatched === 1 ? '' : 's'} (ReplayMismatch):`,
    ...lines,
    ...more,
    'If the conversation changed on purpose, re-record it: DLVCR_MODE=record npx playwright test',
  ].join('\n');
}
