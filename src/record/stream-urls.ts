// streamUrl rewriting. Start and reconnect responses carry an absolute stream URL on the upstream
// (docs/protocol.md#stream-url); the client must get one on the proxy instead. The proxy remembers the original so the
// socket it opens upstream goes exactly where the service said, and nowhere the client chose.
const TTL_MS = 10 * 60_000;

export class StreamUrls {
  private readonly originals = new Map<string, { url: string; at: number }>();

  /** Rewrites an upstream streamUrl to the proxy's public ws origin, keeping path and query. */
  rewrite(original: string, proxyWsOrigin: string): string {
    let u: URL;
    try {
      u = new URL(original);
    } catch {
      return original;
    }
    const key = u.pathname + u.search;
    this.prune();
    this.originals.set(key, {
      url: u.protocol === 'https:' ? 'wss:' + original.slice(6) : u.protocol === 'http:' ? 'ws:' + original.slice(5) : original,
      at: Date.now(),
    });
    return proxyWsOrigin + key;
  }

  /** The upstream URL for a client's upgrade request path (path + query). */
  resolve(pathAndQuery: string, fallbackWsOrigin: string): string {
    return this.originals.get(pathAndQuery)?.url ?? fallbackWsOrigin + pathAndQuery;
  }

  private prune(): void {
    if (this.originals.size < 1000) return;
    const cutoff = Date.now() - TTL_MS;
    for (const [k, v] of this.originals) if (v.at < cutoff) this.originals.delete(k);
  }
}

/** Rewrites every streamUrl property in a JSON body; returns whether anything changed. */
export function rewriteStreamUrls(json: unknown, rewrite: (url: string) => string): boolean {
  if (!json || typeof json !== 'object') return false;
  let changed = false;
  const obj = json as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    const v = obj[key];
    if (key.toLowerCase() === 'streamurl' && typeof v === 'string') {
      const next = rewrite(v);
      if (next !== v) {
        obj[key] = next;
        changed = true;
      }
    } else if (v && typeof v === 'object') {
      changed = rewriteStreamUrls(v, rewrite) || changed;
    }
  }
  return changed;
}
