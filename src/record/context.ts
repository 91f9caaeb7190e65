// What every part of a running recorder shares: one object, handed to the HTTP forwarder, each exchange,
// the WebSocket relay and each relayed stream (instead of each taking its own re-packed option bag).
import { interceptedOrigin } from '../forward/proxy.js';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { CorsPolicy } from '../net/cors.js';
import type { FaultPlan } from '../faults/plan.js';
import type { Listening } from '../net/front-door.js';
import type { AttachmentUrls } from './attachment-urls.js';
import type { CaptureClient } from './capture-client.js';
import type { Outbound } from './outbound.js';
import type { StreamUrls } from './stream-urls.js';
import type { Upstream } from './upstream.js';

export interface RecordContext {
  upstream: Upstream;
  /** TLS trust, outbound proxy agents and error wording for the upstream leg. */
  outbound: Outbound;
  /** Browser origins allowed (CORS answered locally, upgrades from other origins refused). */
  cors: CorsPolicy;
  logger: Logger;
  /** null = passthrough (log only). */
  capture: CaptureClient | null;
  /** streamUrls handed out, and where each really goes. */
  streamUrls: StreamUrls;
  /** Attachment URLs the upstream handed out: rewritten for the client, and the only extra paths forwarded. */
  attachmentUrls: AttachmentUrls;
  /** Larger request bodies get 413; larger stream frames close the stream. */
  maxBodyBytes: number;
  /** Whether we listen with TLS (https:// and wss:// handed out). */
  secure: boolean;
  listening: Listening;
  /** Fault rules: what the client sees instead of (or later than) the upstream's answers and frames. */
  faults: FaultPlan;
}

/**
 * The origins a client reached us by (its Host header), for the URLs we hand it: http(s) for attachment URLs,
 * ws(s) for streamUrls (wss:// when we listen with TLS: a page served over https may not open ws://).
 */
export function clientOrigins(ctx: RecordContext, req: IncomingMessage): { http: string; ws: string } {
  // Came through the forward proxy: back to the host the client called.
  const via = interceptedOrigin(req);
  if (via) return { http: via, ws: via.replace(/^http/, 'ws') };
  const host = req.headers.host ?? new URL(ctx.listening.url).host;
  return ctx.secure ? { http: `https://${host}`, ws: `wss://${host}` } : { http: `http://${host}`, ws: `ws://${host}` };
}
