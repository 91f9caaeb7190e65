// Conversions between raw bytes on the wire and cassette bodies.
import type { Body, CassetteEvent, FrameData } from './schema.js';
import { canonicalJson } from './compact-json.js';

const TEXT_TYPES = /^(text\/|application\/(json|[a-z.+-]*\+json|x-www-form-urlencoded|xml|javascript|vnd\.microsoft\.activity))/i;

/** Turns raw bytes into a cassette body, guided by the Content-Type. */
export function encodeBody(buf: Buffer, contentType: string | undefined): Body {
  if (buf.length === 0) return null;
  const type = (contentType ?? '').toLowerCase();
  const looksJson = type.includes('json') || (!type && (buf[0] === 0x7b || buf[0] === 0x5b));
  if (looksJson) {
    const text = buf.toString('utf8');
    try {
      const json: unknown = JSON.parse(text);
      return deeperThan(json, MAX_JSON_DEPTH) ? { text } : { json };
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

/**
 * A WebSocket frame as stored: JSON parsed when it parses, exact text otherwise, base64 for binary. JSON the
 * scan of compact-json.ts vouches for is not parsed here: see jsonFrame().
 */
export function encodeFrame(data: Buffer | string, isBinary: boolean): FrameData {
  if (isBinary) return { base64: Buffer.isBuffer(data) ? data.toString('base64') : Buffer.from(data).toString('base64') };
  const text = typeof data === 'string' ? data : data.toString('utf8');
  const first = text.charCodeAt(0);
  if (first === 0x7b || first === 0x5b) {
    const canonical = canonicalJson(text);
    if (canonical !== null) return jsonFrame(canonical, canonical === text ? undefined : text);
    try {
      const json: unknown = JSON.parse(text);
      if (deeperThan(json, MAX_JSON_DEPTH)) return { text };
      // Keep the exact text too when re-serialising would change it (whitespace, number forms).
      return JSON.stringify(json) === text ? { json } : { json, text };
    } catch {
      /* not JSON: kept as text */
    }
  }
  return { text };
}

/**
 * A JSON value kept as its compact text (exactly JSON.stringify of the value) instead of parsed: the recorder
 * stores most stream frames so (encodeFrame), the cassette line splices the text in (frameJson) and redaction
 * looks at the text (Redactor.frame). It stands in a frame's `json` only inside the capture worker, between
 * encodeFrame and the cassette file; what leaves it (the live tap, snapshots) is parsed first (readableEvent).
 */
export class CompactJson {
  constructor(readonly text: string) {}

  value(): unknown {
    return JSON.parse(this.text);
  }

  /** JSON.stringify of an event holding one still writes the value (serialize.ts splices the text faster). */
  toJSON(): unknown {
    return this.value();
  }
}

/** A JSON frame whose value is the compact text `json`; `text`: the exact text when it differs. */
export function jsonFrame(json: string, text?: string): FrameData {
  return text === undefined ? { json: new CompactJson(json) } : { json: new CompactJson(json), text };
}

/** The frame's JSON value, parsed if it was kept as text. */
export function frameValue(data: { json: unknown }): unknown {
  return data.json instanceof CompactJson ? data.json.value() : data.json;
}

/** The compact JSON text of a frame whose value is kept as text, else undefined. */
export function compactJsonOf(data: FrameData): string | undefined {
  return 'json' in data && data.json instanceof CompactJson ? data.json.text : undefined;
}

/** The frame data's JSON text (`{"json":…}`) without serialising its value, when that is kept as text; else undefined. */
export function frameJson(data: FrameData): string | undefined {
  const json = compactJsonOf(data);
  if (json === undefined) return undefined;
  const text = (data as { text?: string }).text;
  return text === undefined ? `{"json":${json}}` : `{"json":${json},"text":${JSON.stringify(text)}}`;
}

/** The event as readers outside the capture worker expect it: a frame kept as text is parsed. */
export function readableEvent(e: CassetteEvent): CassetteEvent {
  if (e.type !== 'ws.message' || !('json' in e.data) || !(e.data.json instanceof CompactJson)) return e;
  return { ...e, data: { ...e.data, json: e.data.json.value() } };
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

/**
 * JSON nested deeper than this is kept as text: every walk over stored JSON (redaction, substitution,
 * export) is recursive, and a hostile client must not be able to overflow the recorder's stack.
 */
export const MAX_JSON_DEPTH = 256;

/** Whether a parsed JSON value nests deeper than `limit` (iterative, so it cannot overflow itself). */
export function deeperThan(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}
