// One routed browser request sent to the local recorder or replayer, and its answer made to look as if
// the host the page called had sent it.
import http from 'node:http';

export interface LocalResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Not forwarded: hop-by-hop headers, the browser's Host (the local server is named by the URL) and HTTP/2 pseudo-headers. */
const DROPPED_REQUEST = new Set([
  'host',
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'content-length',
]);
const DROPPED_RESPONSE = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length']);

export function forwardToLocal(url: string, method: string, headers: Record<string, string>, body: Buffer | null): Promise<LocalResponse> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const n = name.toLowerCase();
    if (!n.startsWith(':') && !DROPPED_REQUEST.has(n)) out[n] = value;
  }
  // The answer is handed to the page as bytes: ask for them uncompressed, so no header describes other bytes.
  out['accept-encoding'] = 'identity';
  if (body && body.length > 0) out['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: out, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const h: Record<string, string> = {};
        for (const [name, value] of Object.entries(res.headers)) {
          if (value === undefined || DROPPED_RESPONSE.has(name)) continue;
          h[name] = Array.isArray(value) ? value.join('\n') : value;
        }
        resolve({ status: res.statusCode ?? 502, headers: h, body: Buffer.concat(chunks) });
      });
    });
    req.on('error', reject);
    req.end(body && body.length > 0 ? body : undefined);
  });
}

const TEXTUAL = /json|text|javascript|xml/i;

/**
 * Replaces the local server's origin (http://127.0.0.1:PORT and ws://…) with the one the page called
 * (https://host and wss://host) in a textual body: the streamUrls and attachment URLs the server handed out
 * then go to the hosted host, and so through the routes again. The local origin has a port of its own, so
 * it cannot occur in a body by chance.
 */
export function rewriteLocalOrigins(body: Buffer, contentType: string | undefined, localOrigin: string, pageOrigin: string): Buffer {
  if (body.length === 0 || !TEXTUAL.test(contentType ?? '')) return body;
  const text = body.toString('utf8');
  const localWs = localOrigin.replace(/^http/, 'ws');
  if (!text.includes(localOrigin) && !text.includes(localWs)) return body;
  const pageWs = pageOrigin.replace(/^http/, 'ws');
  return Buffer.from(text.split(localWs).join(pageWs).split(localOrigin).join(pageOrigin), 'utf8');
}
