// Recorded → live values for one session, applied by a deep string walk over everything served:
// the recorded conversation id (also inside activity ids `conv|0000003` and URLs) → the live id,
// DLVCR_ placeholders → the session's synthetic tokens, the recorded user id → the live user id, and
// streamUrls and the upstream's attachment URLs (contentUrl, thumbnailUrl) → this replay server.
import { isPlaceholder, mayHoldPlaceholder, PLACEHOLDERS_IN_TEXT } from '../cassette/placeholders.js';
import { isAttachmentUrlKey } from '../protocol/attachment-urls.js';

/** Keys whose exact string value is a user id (from.id, recipient.id, membersAdded[].id, userId). */
const USER_ID_KEYS = new Set(['id', 'userid']);

export interface SubstitutionContext {
  recordedConversationId: string | null;
  liveConversationId: string | null;
  recordedUserId: string | undefined;
  /** The session's synthetic value for a placeholder (or for a raw recorded token value). */
  token: (recorded: string) => string;
  /** Rewrites a recorded streamUrl to this server; `watermark` overrides the recorded one when given. */
  streamUrl: (recorded: string, watermark: string | undefined) => string;
  /** A recorded attachment URL on the upstream's origin, pointed at this server; undefined for any other URL. */
  attachmentUrl?: (recorded: string) => string | undefined;
}

export class Substituter {
  /** Learned from the live start body or the first posted activity. */
  liveUserId: string | undefined;
  /** The watermark of the live request being answered (a reconnect's ?watermark=), for streamUrls. */
  private watermark: string | undefined;

  constructor(private readonly ctx: SubstitutionContext) {}

  /** Deep copy of a JSON value with substitutions applied. */
  json(v: unknown, watermark?: string): unknown {
    this.watermark = watermark;
    return this.walk(v, '');
  }

  text(s: string): string {
    let out = s;
    const rec = this.ctx.recordedConversationId;
    const live = this.ctx.liveConversationId;
    if (rec && live && rec !== live && out.includes(rec)) out = out.split(rec).join(live);
    if (mayHoldPlaceholder(out)) out = out.replace(PLACEHOLDERS_IN_TEXT, (m) => this.ctx.token(m));
    return out;
  }

  private walk(v: unknown, key: string): unknown {
    if (typeof v === 'string') return this.string(v, key);
    if (Array.isArray(v)) return v.map((x) => this.walk(x, ''));
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = this.walk(x, k);
      return out;
    }
    return v;
  }

  private string(s: string, key: string): string {
    const k = key.toLowerCase();
    if (k === 'streamurl') return this.ctx.streamUrl(s, this.watermark);
    if (isAttachmentUrlKey(k)) {
      const served = this.ctx.attachmentUrl?.(s);
      if (served !== undefined) return served;
    }
    if (USER_ID_KEYS.has(k) && this.liveUserId !== undefined && s === this.ctx.recordedUserId) return this.liveUserId;
    if (k === 'token' && !isPlaceholder(s) && s.length > 0) return this.ctx.token(s); // a token left unredacted
    return this.text(s);
  }
}
