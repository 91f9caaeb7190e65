// HTTP plumbing shared by every route: Direct Line-shaped JSON errors (reference §1.4/§1.5), CORS, body reading.
// Kept independent of src/ on purpose: the emulator stands in for the real service and must not share
// code with the proxies it is used to test.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';

/** Thrown by route handlers; the server turns it into `{error:{code,message}}` with the given status. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

// Browsers call the service cross-origin (Web Chat), so every answer carries ACAO and preflights are
// answered with the headers DirectLineJS sends (reference §1.1, §6.14).
export const CORS_HEADERS: Record<string, string> = {
  'access-control-allow-origin': '*',
};
export const PREFLIGHT_HEADERS: Record<string, string> = {
  ...CORS_HEADERS,
  'access-control-allow-methods': 'GET, POST, PUT, DELETE, OPTIONS',
  'access-control-allow-headers': 'authorization, content-type, x-ms-bot-agent, x-requested-with',
  'access-control-max-age': '600',
};

export type ContentCoding = 'gzip' | 'br' | 'deflate';

/** Responses whose JSON body is compressed (compression mode: chosen per request from its Accept-Encoding). */
const responseCodings = new WeakMap<ServerResponse, ContentCoding>();

/** Compression mode: the coding `accepted` allows among `offered` (in that order of preference), or undefined. */
export function chooseCoding(acceptEncoding: string | string[] | undefined, offered: readonly ContentCoding[]): ContentCoding | undefined {
  const header = (Array.isArray(acceptEncoding) ? acceptEncoding.join(',') : (acceptEncoding ?? '')).toLowerCase();
  const accepted = new Map<string, number>();
  for (const part of header.split(',')) {
    const [name = '', ...params] = part.trim().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    if (name.trim()) accepted.set(name.trim(), q === undefined ? 1 : Number(q.slice(2)));
  }
  return offered.find((c) => (accepted.get(c) ?? accepted.get('*') ?? 0) > 0);
}

export function compressResponse(res: ServerResponse, coding: ContentCoding): void {
  responseCodings.set(res, coding);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  let payload = Buffer.from(JSON.stringify(body));
  const coding = responseCodings.get(res);
  const encoded: Record<string, string> = {};
  if (coding) {
    payload = coding === 'br' ? brotliCompressSync(payload) : coding === 'gzip' ? gzipSync(payload) : deflateSync(payload);
    // setHeader (not only writeHead) so that res.getHeader() tells the request log what was sent.
    res.setHeader('content-encoding', coding);
    encoded.vary = 'Accept-Encoding';
  }
  // The service answers `application/json; charset=utf-8` (reference §1.1) and disables caching.
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(payload.length),
    'cache-control': 'no-cache',
    ...encoded,
    ...CORS_HEADERS,
    ...headers,
  });
  res.end(payload);
}

export function errorBody(code: string, message: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { error: { code, message }, ...extra };
}

export function sendError(res: ServerResponse, err: HttpError): void {
  sendJson(res, err.status, errorBody(err.code, err.message, err.extra), err.headers);
}

/** The body a fault-injected status gets, modelled on what the real service returns for it (§1.5). */
export function injectedError(status: number, retryAfter?: string): HttpError {
  const headers: Record<string, string> = retryAfter !== undefined ? { 'retry-after': retryAfter } : {};
  switch (status) {
    case 400:
      return new HttpError(400, 'BadArgument', 'Injected bad request', {}, headers);
    case 401:
      return new HttpError(401, 'BadArgument', 'Missing token or secret', {}, headers);
    case 403:
      return new HttpError(403, 'TokenExpired', 'Token expired', {}, headers);
    case 404:
      return new HttpError(404, 'BadArgument', 'Conversation not found', {}, headers);
    // 429 is undocumented for Direct Line (§1.5); the code name is a guess, the Retry-After header is what clients read.
    case 429:
      return new HttpError(429, 'TooManyRequests', 'Too many requests', {}, headers);
    case 500:
      return new HttpError(500, 'ServiceError', 'Internal server error', {}, headers);
    // 502 = the bot returned an error; the real body carries the bot's own status in httpStatusCode (§1.4).
    case 502:
      return new HttpError(502, 'BotError', 'Failed to send activity: bot returned an error', { httpStatusCode: 500 }, headers);
    case 503:
      return new HttpError(503, 'ServiceError', 'Service unavailable', {}, headers);
    case 504:
      return new HttpError(504, 'BotError', 'Failed to send activity: bot timed out', { httpStatusCode: 504 }, headers);
    default:
      return new HttpError(status, status >= 500 ? 'ServiceError' : 'BadArgument', `Injected status ${status}`, {}, headers);
  }
}

const MAX_BODY_BYTES = 20 * 1024 * 1024;

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'BadArgument', 'Request body too large');
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

/**
 * Parses an optional JSON body. Empty body → undefined. Property-name casing is not significant on the
 * .NET service (§1.1), so callers look fields up with `field()`.
 */
export function parseJson(body: Buffer): unknown {
  if (body.length === 0 || body.toString('utf8').trim() === '') return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'BadArgument', 'Malformed JSON in request body');
  }
}

/** Case-insensitive property lookup (the service accepts `{User:{Id}}` as well as `{user:{id}}`). */
export function field(obj: unknown, name: string): unknown {
  if (obj === null || typeof obj !== 'object') return undefined;
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
    if (k.toLowerCase() === lower) return v;
  }
  return undefined;
}
