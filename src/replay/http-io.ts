// Reading requests and writing replies: CORS (answered locally, trap 14), which recorded headers are kept,
// and refusing a WebSocket upgrade with a plain HTTP response.
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Hop-by-hop and framing headers are computed here, never copied; CORS is ours; cookies are not replayed. */
const DROPPED_HEADERS = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'trailers',
  'transfer-encoding', 'upgrade', 'content-length', 'content-encoding', 'date', 'set-cookie', 'vary',
]);

export function keptHeaders(recorded: Record<string, string>, map: (v: string) => string = (v) => v): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(recorded)) {
    const name = k.toLowerCase();
    if (DROPPED_HEADERS.has(name) || name.startsWith('access-control-')) continue;
    out[name] = map(v);
  }
  return out;
}

const ALLOWED_HEADERS = 'authorization, content-type, x-ms-bot-agent, x-requested-with';
const ALLOWED_METHODS = 'GET, POST, PUT, DELETE, OPTIONS';

/** Response headers a cross-origin client may read (DirectLineJS looks at Retry-After on a 429). */
const EXPOSED_HEADERS = 'retry-after, x-ms-request-id';

/** Added to every response: the caller's Origin (credentialed, for getsessionid) or `*`. */
export function corsHeaders(req: IncomingMessage): Record<string, string> {
  const origin = req.headers.origin;
  if (typeof origin === 'string' && origin !== '' && origin !== 'null') {
    return { 'access-control-allow-origin': origin, 'access-control-allow-credentials': 'true', 'access-control-expose-headers': EXPOSED_HEADERS, vary: 'Origin' };
  }
  return { 'access-control-allow-origin': '*', 'access-control-expose-headers': EXPOSED_HEADERS };
}

/** Answers a CORS preflight locally (204); it is never matched against the cassette. */
export function answerPreflight(req: IncomingMessage, res: ServerResponse): void {
  const requested = req.headers['access-control-request-headers'];
  const headers: Record<string, string> = {
    ...corsHeaders(req),
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

export function writeReply(res: ServerResponse, reply: Reply, cors: Record<string, string>): void {
  if (res.headersSent || res.destroyed) return;
  const noBody = reply.status === 204 || reply.status === 304 || (reply.status >= 100 && reply.status < 200);
  const headers: Record<string, string> = { ...reply.headers, ...cors };
  if (noBody) {
    res.writeHead(reply.status, headers);
    res.end();
    return;
  }
  headers['content-length'] = String(reply.body.length);
  res.writeHead(reply.status, headers);
  res.end(reply.body);
}

export function jsonReply(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body: Buffer.from(JSON.stringify(body)) };
}

/** The request body, up to `limit` bytes (rejects beyond it). */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(Object.assign(new Error(`request body over ${limit} bytes`), { code: 'BODY_TOO_LARGE' }));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Answers an upgrade request with a plain HTTP response (a recorded refusal, or 404) and closes the socket. */
export function refuseUpgrade(socket: Duplex, reply: Reply, cors: Record<string, string>): void {
  if (socket.destroyed) return;
  const headers: Record<string, string> = { ...reply.headers, ...cors, 'content-length': String(reply.body.length), connection: 'close' };
  let head = `HTTP/1.1 ${reply.status} ${STATUS_CODES[reply.status] ?? 'Unknown'}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  socket.on('error', () => socket.destroy());
  socket.end(Buffer.concat([Buffer.from(head + '\r\n', 'latin1'), reply.body]));
}
