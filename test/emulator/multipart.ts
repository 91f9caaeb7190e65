// Minimal multipart/form-data parser for the upload route (reference §1.3 (7)). Test code: whole body in
// memory, no streaming, RFC 7578 subset (CRLF line breaks, quoted or token parameters, filename*).
import { HttpError } from './errors.js';

export interface Part {
  headers: Record<string, string>;
  name?: string;
  filename?: string;
  contentType?: string;
  data: Buffer;
}

/** Parameters of a header like `form-data; name="file"; filename="a b.png"` (the leading type is skipped). */
export function headerParams(value: string | undefined): Record<string, string> {
  const params: Record<string, string> = {};
  if (!value) return params;
  const re = /;?\s*([^=;\s]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(value)) !== null) {
    const key = m[1]!.toLowerCase();
    let v = m[2]!.trim();
    if (v.startsWith('"')) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    if (key.endsWith('*')) {
      // RFC 5987 ext-value: charset'lang'pct-encoded; it wins over the plain parameter.
      const ext = /^[^']*'[^']*'(.*)$/.exec(v);
      try {
        params[key.slice(0, -1)] = decodeURIComponent(ext ? ext[1]! : v);
      } catch {
        params[key.slice(0, -1)] = v;
      }
      continue;
    }
    if (!(key in params)) params[key] = v;
  }
  return params;
}

export function parseMultipart(body: Buffer, contentType: string): Part[] {
  const boundary = headerParams(contentType).boundary;
  if (!boundary) throw new HttpError(400, 'BadArgument', 'multipart body without boundary');
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Part[] = [];
  let pos = body.indexOf(delimiter);
  if (pos < 0) throw new HttpError(400, 'BadArgument', 'multipart boundary not found');
  for (;;) {
    pos += delimiter.length;
    if (body.subarray(pos, pos + 2).toString() === '--') break; // close delimiter
    pos = skipLineEnd(body, pos);
    const headerEnd = body.indexOf('\r\n\r\n', pos);
    if (headerEnd < 0) throw new HttpError(400, 'BadArgument', 'malformed multipart part headers');
    const headers = parseHeaderBlock(body.subarray(pos, headerEnd).toString('utf8'));
    const dataStart = headerEnd + 4;
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), dataStart);
    if (next < 0) throw new HttpError(400, 'BadArgument', 'unterminated multipart body');
    const disposition = headerParams(headers['content-disposition']);
    parts.push({
      headers,
      name: disposition.name,
      filename: disposition.filename,
      contentType: headers['content-type'],
      data: Buffer.from(body.subarray(dataStart, next)),
    });
    pos = next + 2;
  }
  return parts;
}

function skipLineEnd(body: Buffer, pos: number): number {
  // Transport padding (spaces/tabs) may precede the CRLF after a delimiter.
  while (body[pos] === 0x20 || body[pos] === 0x09) pos++;
  if (body[pos] === 0x0d && body[pos + 1] === 0x0a) return pos + 2;
  if (body[pos] === 0x0a) return pos + 1;
  return pos;
}

function parseHeaderBlock(block: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of block.split(/\r\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}
