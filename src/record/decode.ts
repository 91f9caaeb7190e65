// Response bodies are stored decoded (readable JSON in the cassette) whatever Content-Encoding the
// upstream chose.
import { brotliDecompressSync, gunzipSync, inflateSync, inflateRawSync } from 'node:zlib';

export function decodeContent(buf: Buffer, encoding: string | undefined): Buffer {
  const enc = (encoding ?? '').trim().toLowerCase();
  if (!enc || enc === 'identity' || buf.length === 0) return buf;
  if (enc === 'gzip' || enc === 'x-gzip') return gunzipSync(buf);
  if (enc === 'br') return brotliDecompressSync(buf);
  if (enc === 'deflate') {
    try {
      return inflateSync(buf);
    } catch {
      return inflateRawSync(buf); // some servers send raw deflate
    }
  }
  throw new Error(`unsupported Content-Encoding "${encoding}"`);
}
