// Attachment URLs in activities (docs/protocol.md#attachments): the service hands out uploaded files
// as `contentUrl`s (and previews as `thumbnailUrl`s) on its own host, valid for 24 h. The recorder points
// them at itself and records the GETs; the replayer points them at itself and serves the recorded bytes.

/** Property names (any case) whose string value is an attachment URL. */
const URL_KEYS = new Set(['contenturl', 'thumbnailurl']);

export function isAttachmentUrlKey(key: string): boolean {
  return URL_KEYS.has(key.toLowerCase());
}

/**
 * Replaces, in place, every attachment URL property of a parsed JSON value with `map(url)`; returns whether
 * anything changed. Iterative: a deeply nested frame cannot overflow the stack.
 */
export function mapAttachmentUrls(json: unknown, map: (url: string) => string): boolean {
  let changed = false;
  const stack: unknown[] = [json];
  while (stack.length) {
    const v = stack.pop();
    if (!v || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      for (const x of v) if (x && typeof x === 'object') stack.push(x);
      continue;
    }
    const obj = v as Record<string, unknown>;
    for (const key of Object.keys(obj)) {
      const x = obj[key];
      if (typeof x === 'string') {
        if (!isAttachmentUrlKey(key)) continue;
        const next = map(x);
        if (next !== x) {
          obj[key] = next;
          changed = true;
        }
      } else if (x && typeof x === 'object') {
        stack.push(x);
      }
    }
  }
  return changed;
}

/** `scheme://host[:port]` of an absolute http(s) URL, normalised like URL.origin; null for anything else. */
export function httpOriginOf(url: string): string | null {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : null;
  } catch {
    return null;
  }
}
