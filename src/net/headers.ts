// Header lists both servers share: what belongs to one connection (hop-by-hop, RFC 9110 §7.6.1) and is never
// copied from one leg to another, recorded or replayed.

/** Hop-by-hop headers, plus the framing headers each leg computes for itself (Content-Length). */
export const HOP_BY_HOP_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'trailers',
  'transfer-encoding',
  'upgrade',
  'content-length',
]);

/** Whether a (lower-case) header name belongs to one connection only. */
export function isHopByHop(name: string): boolean {
  return HOP_BY_HOP_HEADERS.has(name);
}
