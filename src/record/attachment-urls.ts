// Attachment URL rewriting (docs/protocol.md#recorder), the counterpart of stream-urls.ts: contentUrl/thumbnailUrl values on
// the upstream's origin reach the client on the recorder's origin (same path and query), so the client's
// GET of the file comes here and is recorded. The recorder forwards GETs for exactly the paths the upstream
// handed out (even outside the base path), and nothing else: it stays no open proxy.
import { httpOriginOf, mapAttachmentUrls } from '../protocol/attachment-urls.js';

/** The service keeps uploaded files 24 h; a link is not forwarded after that. */
const TTL_MS = 24 * 60 * 60_000;
/** Paths remembered at most (the oldest go first): a long recording must not grow without bound. */
const MAX_PATHS = 20_000;

export interface HandedOut {
  /** The conversation whose activity carried the URL (the recorded GET belongs to it). */
  conversationId: string | null;
  at: number;
}

export class AttachmentUrls {
  private readonly paths = new Map<string, HandedOut>();
  /** The upstream's host as bytes: a stream frame without it cannot hold one of its URLs (cheap pre-check). */
  private readonly needle: Buffer;
  private readonly upstreamOrigin: string;

  /** @param now the clock (tests) */
  constructor(
    upstreamOrigin: string,
    private readonly now: () => number = Date.now,
  ) {
    this.upstreamOrigin = httpOriginOf(upstreamOrigin) ?? upstreamOrigin;
    // The host alone, not scheme://host: a JSON writer may escape the slashes (`http:\/\/host`).
    this.needle = Buffer.from(new URL(this.upstreamOrigin).host);
  }

  /** Whether a frame may hold an upstream URL; false means it can be relayed without looking inside. */
  mayContain(frame: Buffer): boolean {
    return frame.includes(this.needle);
  }

  /**
   * Rewrites the attachment URLs of a parsed JSON value (in place) to `proxyOrigin`, remembering each path;
   * URLs on any other origin stay as they are. Returns whether anything changed.
   */
  rewriteJson(json: unknown, proxyOrigin: string, conversationId: string | null): boolean {
    return mapAttachmentUrls(json, (url) => this.rewrite(url, proxyOrigin, conversationId));
  }

  /** One URL: on the upstream's origin → proxyOrigin + the same path, query and fragment. */
  rewrite(original: string, proxyOrigin: string, conversationId: string | null): string {
    if (httpOriginOf(original) !== this.upstreamOrigin) return original;
    const u = new URL(original);
    if (u.username || u.password) return original; // not a link the service hands out; never forwarded
    this.remember(u.pathname, conversationId);
    return proxyOrigin + u.pathname + u.search + u.hash;
  }

  /** What the upstream said about this request path, when it handed it out (within the last 24 h). */
  lookup(path: string): HandedOut | undefined {
    const entry = this.paths.get(path);
    if (entry && this.now() - entry.at > TTL_MS) {
      this.paths.delete(path);
      return undefined;
    }
    return entry;
  }

  private remember(path: string, conversationId: string | null): void {
    const previous = this.paths.get(path);
    this.paths.delete(path); // re-inserted last: the Map's order is the eviction order
    this.paths.set(path, { conversationId: conversationId ?? previous?.conversationId ?? null, at: this.now() });
    if (this.paths.size > MAX_PATHS) this.paths.delete(this.paths.keys().next().value!);
  }
}
