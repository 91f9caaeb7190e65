// Conversions between raw bytes on the wire and cassette bodies.
import type { Body, FrameData } from './schema.js';

const TEXT_TYPES = /^(text\/|application\/(json|[a-z.+-]*\+json|x-www-form-urlencoded|xml|javascript|vnd\.microsoft\.activity))/i;

/** Turns raw bytes into a cassette body, guided by the Content-Type. */
export function encodeBody(buf: Buffer, contentType: string | undefined): Body {
  if (buf.length === 0) return null;
  const type = (contentType ?? '').toLowerCase();
  const looksJson = type.includes('json') || (!type && (buf[0] === 0x7b || buf[0] === 0x5b));
  if (looksJson) {
    const text = buf.toString('utf8');
    try {
      return { json: JSON.parse(text) };
    } catch {
      return { text };
    }
  }
  if (TEXT_TYPES.test(type) || (!type && isUtf8(buf))) return { text: buf.toString('utf8') };
  return { base64: buf.toString('base64') };
}

/** Turns a cassette body back into bytes. JSON is written compactly. */
export function decodeBody(body: Body): Buffer {
  if (body === null) return Buffer.alloc(0);
  if ('json' in body) return Buffer.from(JSON.stringify(body.json));
  if ('text' in body) return Buffer.from(body.text, 'utf8');
  return Buffer.from(body.base64, 'base64');
}

/** A WebSocket frame as stored: JSON parsed when it parses, exact text otherwise, base64 for binary. */
export function encodeFrame(data: Buffer | string, isBinary: boolean): FrameData {
  if (isBinary) return { base64: Buffer.isBuffer(data) ? data.toString('base64') : Buffer.from(data).toString('base64') };
  const text = typeof data === 'string' ? data : data.toString('utf8');
  const first = text.charCodeAt(0);
  if (first === 0x7b || first === 0x5b) {
    try {
      const json = JSON.parse(text);
      // Keep the exact text too when re-serialising would change it (whitespace, number forms).
      return JSON.stringify(json) === text ? { json } : { json, text };
    } catch { /* not JSON: kept as text */ }
  }
  return { text };
}

export function decodeFrame(data: FrameData): { payload: string | Buffer; isBinary: boolean } {
  if ('base64' in data) return { payload: Buffer.from(data.base64, 'base64'), isBinary: true };
  if ('json' in data) return { payload: data.text ?? JSON.stringify(data.json), isBinary: false };
  return { payload: data.text, isBinary: false };
}

function isUtf8(buf: Buffer): boolean {
  // Node 20 has buffer.isUtf8; a replacement-char check keeps us portable.
  return !buf.toString('utf8').includes('\uFFFD');
}
