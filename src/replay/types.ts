// Public option and result types of the replayer (re-exported by index.ts).
import type { Logger } from '../log.js';
import type { Cassette } from '../cassette/schema.js';
import type { ListenerTls } from '../net/pem.js';
import type { ForwardOptions } from '../forward/proxy.js';
import type { FaultRule } from '../faults/rule.js';
import type { LiveInspectorOptions } from '../inspector/live-record.js';
import type { FaultSummary, InjectedFault } from '../faults/plan.js';

export interface ReplayOptions {
  /** A loaded cassette, or a file path (loaded and validated). */
  cassette: Cassette | string;
  /** Default 0 (a free port) and '127.0.0.1'. */
  port?: number;
  host?: string;
  /** 1 = recorded timing, 4 = four times faster, 0 or Infinity = instant (order kept, no waits). Default 1. */
  speed?: number;
  /** pino logger; default silent. */
  logger?: Logger;
  /** Origin put into streamUrls (default: the server's own http://host:port). */
  publicUrl?: string;
  /** Serve the Web Chat demo page at / (and Web Chat's bundle at /webchat.js, see src/web/). Default false. */
  demoPage?: boolean;
  /**
   * Listen with TLS: `url` becomes https://… and streamUrls wss://… (unless publicUrl says otherwise), so a
   * page served over https can use this server. Each of cert and key is PEM text or a path to a PEM file
   * (cert: the leaf first, then any intermediates).
   */
  tls?: ListenerTls;
  /**
   * Browser origins allowed to call this server (CORS and WebSocket Origin), e.g. ['https://my-app.example'];
   * the server's own origin is always allowed. Default: any origin. Clients that send no Origin are not affected.
   */
  allowOrigin?: string[];
  /**
   * Also be an HTTPS forward proxy (CONNECT) for clients that cannot change their domain: Direct Line hosts are
   * intercepted with a local CA (~/.directline-vcr/ca.pem), other hosts tunnelled or refused. See src/forward/.
   */
  forward?: boolean | ForwardOptions;
  /**
   * Fault rules, e.g. ['drop-stream@frame=3', 'status=429@route=activities.post,nth=2'] (see docs and
   * src/faults/rule.ts). Checked before the server starts: a bad rule throws FaultRuleError.
   */
  faults?: Array<string | FaultRule>;
  /** Seed of the faults' jitter (default 1): the same rules and seed give the same faults. */
  seed?: number;
  /**
   * Serve the web inspector at /_vcr/: the cassette, each live session and every mismatch as it happens. It
   * answers loopback clients only unless `{ allowRemote: true }`. Default false.
   */
  inspector?: boolean | LiveInspectorOptions;
  /**
   * This process's id when several replay processes serve one cassette behind a reverse proxy: every
   * conversation id (`<recorded>.<instance>_<n>`) and token it mints carries it, so the proxy can route each
   * request of a conversation to this process (examples/scale-out/). Letters, digits, inner hyphens; ≤ 32.
   */
  instance?: string;
  /**
   * 'strict' (default): a posted message must have the recorded type and text. 'loose', for live demos only:
   * a message that matches no recorded text is answered as the next recorded message turn.
   */
  match?: 'strict' | 'loose';
  /**
   * A session with no stream open and no request for this long (ms) is let go: its state is freed and a client
   * that comes back later resumes from its watermark, as with a server restart. Default 10 minutes (a load test
   * would otherwise keep every conversation it ever started); 0 or Infinity: never.
   */
  sessionIdleMs?: number;
}

export interface UnmatchedRequest {
  method: string;
  path: string;
  route: string;
  reason: string;
  /** One-line description of the next recorded request of that route, or null when none is left. */
  expected: string | null;
  /** ISO time the request arrived. */
  at: string;
}

export interface ReplaySummary {
  /** Sessions (replayed conversations) started by clients. */
  conversations: number;
  /** Requests answered from the cassette (including polls and synthesized reconnect/refresh answers). */
  matched: number;
  unmatched: number;
  unmatchedRequests: UnmatchedRequest[];
  /** Faults injected (by rule text). */
  faults: FaultSummary;
}

export interface Replayer {
  /** http://127.0.0.1:PORT (https:// with options.tls) */
  url: string;
  /** url + the cassette's basePath: what a client passes as `domain`. */
  domain: string;
  port: number;
  /** url + '/' when the Web Chat demo page is served (options.demoPage), else null. */
  demoPageUrl: string | null;
  /** url + '/_vcr/' when the inspector is served (options.inspector), else null. */
  inspectorUrl: string | null;
  summary(): ReplaySummary;
  /** Adds a fault rule while the server runs (a bad rule throws FaultRuleError). */
  inject(rule: string | FaultRule): void;
  /** Removes every fault rule (expired tokens and gone conversations become valid again). */
  clearFaults(): void;
  /** Every fault injected so far, in order. */
  injectedFaults(): InjectedFault[];
  close(): Promise<void>;
}
