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

/**
 * A request target (req.url) split into its path and query as `new URL(target, base)` would give them,
 * without building a URL for the common plain target: only ASCII that URL parsing leaves as it is, no dot
 * segment, no `//` at the start; anything else goes through URL. The query is parsed on first use.
 */
export class RequestTarget {
  private params: URLSearchParams | null = null;

  private constructor(
    readonly pathname: string,
    private readonly search: string,
  ) {}

  static of(raw: string | undefined): RequestTarget {
    if (raw !== undefined && PLAIN_TARGET.test(raw) && !DOT_SEGMENT.test(raw)) {
      const q = raw.indexOf('?');
      return q < 0 ? new RequestTarget(raw, '') : new RequestTarget(raw.slice(0, q), raw.slice(q));
    }
    const url = new URL(raw ?? '/', 'http://replay.invalid');
    return new RequestTarget(url.pathname, url.search);
  }

  /** The first value of a query parameter (as URLSearchParams.get). */
  get(name: string): string | null {
    return this.query.get(name);
  }

  get query(): URLSearchParams {
    this.params ??= new URLSearchParams(this.search);
    return this.params;
  }
}

const PLAIN_TARGET = /^\/(?!\/)[A-Za-z0-9\-._~!$&()*+,;=:@%/]*(?:\?[A-Za-z0-9\-._~!$&()*+,;=:@%/?]*)?$/;
/** A `.` or `..` segment (also percent-encoded) in the path, which URL would resolve. */
const DOT_SEGMENT = /^[^?]*(?:\/\.|%2e)/i;

export function keptHeaders(recorded: Record<string, string>, map: (v: string) => string = (v) => v): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(recorded)) {
    const name = k.toLowerCase();
    if (isHopByHop(name) || DROPPED_HEADERS.has(name) || name.startsWith('access-control-')) continue;
    out[name] = map(v);
  }
  return out;
}

/** A policy's CORS headers for requests without an Origin (Node clients, curl): the same for every one of them. */
const withoutOrigin = new WeakMap<CorsPolicy, Record<string, string>>();

/** Added to every response: the caller's Origin (credentialed, for getsessionid) or `*` (see src/net/cors.ts). */
export function corsHeaders(req: IncomingMessage, policy: CorsPolicy = ANY_ORIGIN): Record<string, string> {
  const origin = req.headers.origin;
  if (typeof origin === 'string' && origin !== '') return policy.headers(req);
  let headers = withoutOrigin.get(policy);
  if (!headers) {
    headers = sharedHeaders(policy.headers(req));
    withoutOrigin.set(policy, headers);
  }
  return headers;
}

/**
 * Marks a header object as shared by many replies (a recorded response's kept headers, the CORS headers of
 * requests without an Origin): frozen, so that writeReply may keep what it merges from two of them.
 */
export function sharedHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.freeze(headers);
}

/** Reply headers + CORS headers + content-length, as the flat list writeHead takes, per pair of shared objects. */
interface MergedHeaders {
  flat: string[];
  /** Where the content-length value goes in `flat`. */
  length: number;
}

const merged = new WeakMap<Record<string, string>, WeakMap<Record<string, string>, MergedHeaders>>();

function mergedHeaders(headers: Record<string, string>, cors: Record<string, string>): MergedHeaders {
  let byCors = merged.get(headers);
  if (!byCors) {
    byCors = new WeakMap();
    merged.set(headers, byCors);
  }
  let m = byCors.get(cors);
  if (!m) {
    // In the order of the object writeReply builds otherwise: reply headers, CORS, content-length.
    const flat = Object.entries({ ...headers, ...cors, 'content-length': '' }).flat();
    m = { flat, length: flat.indexOf('content-length') + 1 };
    byCors.set(cors, m);
  }
  return m;
}

/** Answers a CORS preflight locally (204, or 403 for an origin --allow-origin leaves out); never matched against the cassette. */
export function answerPreflight(req: IncomingMessage, res: ServerResponse, policy: CorsPolicy = ANY_ORIGIN): void {
  policy.answerPreflight(req, res);
}

export function writeReply(res: ServerResponse, reply: Reply, cors: Record<string, string>): void {
  if (res.headersSent || res.destroyed) return;
  const noBody = reply.status === 204 || reply.status === 304 || (reply.status >= 100 && reply.status < 200);
  if (noBody) {
    res.writeHead(reply.status, { ...reply.headers, ...cors });
    res.end();
    return;
  }
  const length = String(typeof reply.body === 'string' ? Buffer.byteLength(reply.body) : reply.body.length);
  if (Object.isFrozen(reply.headers) && Object.isFrozen(cors)) {
    // The same header lines as below without copying two objects per reply (writeHead reads the list at once).
    const m = mergedHeaders(reply.headers, cors);
    m.flat[m.length] = length;
    res.writeHead(reply.status, m.flat);
  } else {
    res.writeHead(reply.status, { ...reply.headers, ...cors, 'content-length': length });
  }
  res.end(reply.body);
}

export function jsonReply(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body: JSON.stringify(body) };
}

/** Answers an upgrade request with a plain HTTP response (a recorded refusal, or 404) and closes the socket. */
export function refuseUpgrade(socket: Duplex, reply: Reply, cors: Record<string, string>): void {
  writeUpgradeRefusal(socket, reply.status, { ...reply.headers, ...cors }, Buffer.from(reply.body));
}
