// Browser access for both servers (recorder and replay): CORS answered locally, with Chrome's Private Network
// Access preflight, for any origin by default or for an --allow-origin list.
//
// Default (no list): every response carries the caller's Origin with credentials allowed (DirectLineJS's
// getsessionid is credentialed: docs/protocol.md#browsers), or `*` without an Origin. With a list, only those origins (and the
// server's own, so its demo page keeps working) get CORS headers; a request or WebSocket upgrade that carries
// any other Origin is refused with 403 before it is forwarded or matched. Clients that send no Origin (Node,
// curl) are not affected by the list.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorBody, sendJson } from '../protocol/errors.js';

const ALLOWED_HEADERS = 'authorization, content-type, x-ms-bot-agent, x-requested-with';
const ALLOWED_METHODS = 'GET, POST, PUT, DELETE, OPTIONS';
/** Response headers a cross-origin client may read (DirectLineJS looks at Retry-After on a 429). */
const EXPOSED_HEADERS = 'retry-after, x-ms-request-id';

export class CorsError extends Error {}

/** Normalises an --allow-origin value: scheme://host[:port] (lowercase, no path), `null`, or `*`. */
export function normaliseOrigin(raw: string): string {
  const v = raw.trim();
  if (v === '*' || v === 'null') return v;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new CorsError(`--allow-origin "${raw}" is not an origin (expected e.g. https://example.com or http://localhost:8080)`);
  }
  if ((u.pathname !== '/' && u.pathname !== '') || u.search || u.hash || u.username || u.password) {
    throw new CorsError(`--allow-origin "${raw}" must be an origin only (scheme://host[:port]), without a path`);
  }
  return u.origin;
}

export class CorsPolicy {
  /** null = any origin. */
  private readonly allowed: ReadonlySet<string> | null;

  constructor(
    allowOrigins?: readonly string[] | null,
    private readonly secure = false,
  ) {
    const list = (allowOrigins ?? [])
      .flatMap((o) => o.split(','))
      .map((o) => o.trim())
      .filter(Boolean)
      .map(normaliseOrigin);
    this.allowed = list.length === 0 || list.includes('*') ? null : new Set(list);
  }

  get restricted(): boolean {
    return this.allowed !== null;
  }

  /** The listed origins (for logs), or ['*']. */
  describe(): string[] {
    return this.allowed ? [...this.allowed] : ['*'];
  }

  /** The request's Origin header, if any. */
  static originOf(req: IncomingMessage): string | undefined {
    const o = req.headers.origin;
    return typeof o === 'string' && o !== '' ? o : undefined;
  }

  /** Whether a request with this Origin may use the server (no Origin: always). */
  allows(req: IncomingMessage): boolean {
    const origin = CorsPolicy.originOf(req);
    if (origin === undefined || this.allowed === null) return true;
    if (this.allowed.has(origin.toLowerCase()) || this.allowed.has(origin)) return true;
    // The server's own pages (the demo page) send their origin on POSTs.
    const host = req.headers.host;
    return typeof host === 'string' && origin.toLowerCase() === `${this.secure ? 'https' : 'http'}://${host}`.toLowerCase();
  }

  /** Headers added to every response: nothing for an origin that is not allowed. */
  headers(req: IncomingMessage): Record<string, string> {
    const origin = CorsPolicy.originOf(req);
    if (origin !== undefined && origin !== 'null') {
      if (!this.allows(req)) return {};
      return {
        'access-control-allow-origin': origin,
        'access-control-allow-credentials': 'true',
        'access-control-expose-headers': EXPOSED_HEADERS,
        vary: 'Origin',
      };
    }
    if (origin === 'null' && this.allowed !== null)
      return this.allows(req)
        ? { 'access-control-allow-origin': 'null', 'access-control-expose-headers': EXPOSED_HEADERS, vary: 'Origin' }
        : {};
    return {
      'access-control-allow-origin': '*',
      'access-control-expose-headers': EXPOSED_HEADERS,
      ...(this.allowed ? { vary: 'Origin' } : {}),
    };
  }

  /** The refusal message for a request whose Origin is not allowed, or null when it may go on. */
  refusal(req: IncomingMessage): string | null {
    if (this.allows(req)) return null;
    return `origin ${CorsPolicy.originOf(req)} is not allowed here (allowed: ${this.describe().join(', ')}; see --allow-origin)`;
  }

  /**
   * Answers a CORS preflight locally: 204 with the methods and headers asked for, and
   * Access-Control-Allow-Private-Network when Chrome asks (Private Network Access: a public page calling a
   * server on a private or loopback address). 403 for an origin that is not allowed.
   */
  answerPreflight(req: IncomingMessage, res: ServerResponse): void {
    const refusal = this.refusal(req);
    if (refusal) {
      sendJson(res, 403, errorBody('OriginNotAllowed', refusal), { vary: 'Origin' });
      return;
    }
    const requested = req.headers['access-control-request-headers'];
    const headers: Record<string, string> = {
      ...this.headers(req),
      'access-control-allow-methods': ALLOWED_METHODS,
      'access-control-allow-headers': typeof requested === 'string' && requested.trim() !== '' ? requested : ALLOWED_HEADERS,
      'access-control-max-age': '600',
      'content-length': '0',
    };
    if (String(req.headers['access-control-request-private-network']).toLowerCase() === 'true') {
      headers['access-control-allow-private-network'] = 'true';
    }
    res.writeHead(204, headers);
    res.end();
  }
}

/** Any origin allowed: the default of both servers. */
export const ANY_ORIGIN = new CorsPolicy();
