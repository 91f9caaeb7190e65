// Attachments on replay (docs/protocol.md#attachments). Served activities carry their attachment URLs on this server (see
// Session.attachmentUrl: same path, the session's conversation id in it); a GET of one is answered from the
// cassette's recorded GET of that path (route 'attachment', recorded by any session), and one never fetched
// while recording gets a 404 saying so. Nothing here belongs to a session: any session may fetch any file.
import type { Cassette, HttpEvent } from '../cassette/schema.js';
import { httpOriginOf, mapAttachmentUrls } from '../protocol/attachment-urls.js';
import { routePolicy } from '../protocol/routes.js';

/** What a replayed session looks like from here: its conversation id live and as recorded. */
export interface SessionIds {
  readonly liveId: string | null;
  readonly model: { readonly recordedId: string | null };
}

export type AttachmentLookup = { kind: 'recorded'; recordedPath: string; ev: HttpEvent } | { kind: 'unrecorded'; recordedPath: string };

export class RecordedAttachments {
  /** Recorded path → the recorded GET served for it (the last 2xx one, else the last one). */
  private readonly fetched = new Map<string, HttpEvent>();
  /** Paths of the attachment URLs the upstream handed out (built on first use: most replays never need it). */
  private handedOutPaths: Set<string> | null = null;
  readonly upstreamOrigin: string | null;

  constructor(private readonly cassette: Cassette) {
    this.upstreamOrigin = httpOriginOf(cassette.upstream.origin);
    for (const ev of cassette.events) {
      if (ev.type !== 'http' || routePolicy(ev.route).replay !== 'byPath') continue;
      const kept = this.fetched.get(ev.request.path);
      if (!kept || !isOk(kept) || isOk(ev)) this.fetched.set(ev.request.path, ev);
    }
  }

  /** Whether a recorded URL is one of the upstream's (so it is served from here). */
  isUpstreamUrl(url: string): boolean {
    return this.upstreamOrigin !== null && httpOriginOf(url) === this.upstreamOrigin;
  }

  /**
   * The recorded answer for a live GET path: the path as it is, or with a session's live conversation id put
   * back to the recorded one. Null when the path is no attachment the upstream handed out.
   */
  find(livePath: string, sessions: Iterable<SessionIds>): AttachmentLookup | null {
    const candidates = this.candidates(livePath, sessions);
    for (const path of candidates) {
      const ev = this.fetched.get(path);
      if (ev) return { kind: 'recorded', recordedPath: path, ev };
    }
    const handedOut = this.handedOut();
    for (const path of candidates) if (handedOut.has(path)) return { kind: 'unrecorded', recordedPath: path };
    return null;
  }

  private candidates(livePath: string, sessions: Iterable<SessionIds>): string[] {
    const out = [livePath];
    for (const s of sessions) {
      const live = s.liveId;
      const recorded = s.model.recordedId;
      if (!live || !recorded || live === recorded) continue;
      for (const [l, r] of [
        [live, recorded],
        [encodeURIComponent(live), encodeURIComponent(recorded)],
      ]) {
        if (livePath.includes(l)) {
          const path = livePath.split(l).join(r);
          if (!out.includes(path)) out.push(path);
        }
      }
    }
    return out;
  }

  private handedOut(): Set<string> {
    if (this.handedOutPaths) return this.handedOutPaths;
    const paths = new Set<string>();
    const collect = (url: string): string => {
      if (this.isUpstreamUrl(url)) paths.add(new URL(url).pathname);
      return url;
    };
    if (this.upstreamOrigin !== null) {
      for (const ev of this.cassette.events) {
        if (ev.type === 'http' && ev.response?.body && 'json' in ev.response.body) mapAttachmentUrls(ev.response.body.json, collect);
        else if (ev.type === 'ws.message' && ev.from === 'server' && 'json' in ev.data) mapAttachmentUrls(ev.data.json, collect);
      }
    }
    this.handedOutPaths = paths;
    return paths;
  }
}

function isOk(ev: HttpEvent): boolean {
  return ev.response !== null && ev.response.status >= 200 && ev.response.status < 300;
}
