// The recorder's options, declared once, and their defaults, declared once (what every part of the recorder
// reads is the resolved form: RecordContext, context.ts).
import type { ForwardOptions } from '../forward/proxy.js';
import type { FaultRule } from '../faults/rule.js';
import type { LiveInspectorOptions } from '../inspector/live-record.js';
import type { Logger } from 'pino';
import type { RedactionRules } from '../cassette/redact.js';
import { DEFAULT_HOST } from '../net/front-door.js';
import type { ListenerTls } from '../net/pem.js';
import { DEFAULT_MAX_BODY_BYTES } from '../net/request-body.js';
import { DEFAULT_UPSTREAM } from './upstream.js';

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
  /**
   * Bytes the relay may have handed to the capture worker (which encodes, redacts and writes) and that are not on
   * disk yet; beyond that the relay pauses the sockets it reads from until the worker catches up (nothing is
   * dropped). Default 8 MiB.
   */
  captureQueueBytes?: number;
  /** Requests with larger bodies get 413, and larger stream frames close the stream. Default 64 MiB (as replay). */
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
  /**
   * Fault rules for what the client sees while the upstream is recorded (src/faults/), e.g. ['drop-stream@frame=3'].
   * A faulted request is not forwarded; the cassette notes each injected fault. Checked before anything starts.
   */
  faults?: Array<string | FaultRule>;
  /** Seed of the faults' jitter (default 1). */
  seed?: number;
  /**
   * Serve the web inspector at /_vcr/ (the cassette as captured so far, new events as they come). It answers
   * loopback clients only unless `{ allowRemote: true }`. Default false.
   */
  inspector?: boolean | LiveInspectorOptions;
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

/** The defaults of RecordOptions (the CLI shows its own port default, 4978). */
export const DEFAULT_RECORD_OPTIONS = {
  upstream: DEFAULT_UPSTREAM,
  host: DEFAULT_HOST,
  port: 0,
  flushIntervalMs: 200,
  maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
  append: false,
  demoPage: false,
  insecure: false,
} as const satisfies Partial<RecordOptions>;

export type ResolvedRecordOptions = RecordOptions & {
  -readonly [K in keyof typeof DEFAULT_RECORD_OPTIONS]-?: NonNullable<RecordOptions[K]>;
};

/** The options with every default filled in (an option given as undefined takes its default). */
export function withDefaults(opts: RecordOptions): ResolvedRecordOptions {
  const out: RecordOptions = { ...opts };
  for (const [k, v] of Object.entries(DEFAULT_RECORD_OPTIONS)) {
    if (out[k as keyof RecordOptions] === undefined) (out as Record<string, unknown>)[k] = v;
  }
  return out as ResolvedRecordOptions;
}
