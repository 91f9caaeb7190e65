// Reading requests and writing replies: CORS (answered locally, docs/protocol.md#browsers), which recorded headers are kept,
// and refusing a WebSocket upgrade with a plain HTTP response.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { ANY_ORIGIN, type CorsPolicy } from '../net/cors.js';
import { writeUpgradeRefusal } from '../net/websocket-handshake.js';
import { isHopByHop } from '../net/headers.js';

export interface Reply {
  status: number;
  headers: Record<string, string>;
  /** JSON replies stay strings: Node then sends headers and body in one write instead of a writev of two. */
  body: Buffer | string;
}

/** Besides hop-by-hop and framing headers (computed here, never copied): CORS is ours, cookies are not replayed. */
const DROPPED_HEADERS = new Set(['content-encoding', 'date', 'set-cookie', 'vary']);

export function keptHeaders(recorded: Record<string, string>, map: (v: string) => string = (v) => v): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(recorded)) {
    const name = k.toLowerCase();
    if (isHopByHop(name) || DROPPED_HEADERS.has(name) || name.startsWith('access-control-')) continue;
    out[name] = map(v);
  }
  return out;
}

/** Added to every response: the caller's Origin (credentialed, for getsessionid) or `*` (see src/net/cors.ts). */
export function corsHeaders(req: IncomingMessage, policy: CorsPolicy = ANY_ORIGIN): Record<string, string> {
  return policy.headers(req);
}

/** Answers a CORS preflight locally (204, or 403 for an origin --allow-origin leaves out); never matched against the cassette. */
export function answerPreflight(req: IncomingMessage, res: ServerResponse, policy: CorsPolicy = ANY_ORIGIN): void {
  policy.answerPreflight(req, res);
}

export function writeReply(res: ServerResponse, reply: Reply, cors: Record<string, string>): void {
  if (res.headersSent || res.destroyed) return;
  const noBody = reply.status === 204 || reply.status === 304 || (reply.status >= 100 && reply.status < 200);
  const headers: Record<string, string> = { ...reply.headers, ...cors };
  if (noBody) {
    res.writeHead(reply.status, headers);
    res.end();
    return;
  }
  headers['content-length'] = String(typeof reply.body === 'string' ? Buffer.byteLength(reply.body) : reply.body.length);
  res.writeHead(reply.status, headers);
  res.end(reply.body);
}

export function jsonReply(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body: JSON.stringify(body) };
}

/** Answers an upgrade request with a plain HTTP response (a recorded refusal, or 404) and closes the socket. */
export function refuseUpgrade(socket: Duplex, reply: Reply, cors: Record<string, string>): void {
  writeUpgradeRefusal(socket, reply.status, { ...reply.headers, ...cors }, Buffer.from(reply.body));
}
