// A recorded stream frame (or JSON response body) serialised once and filled in per session, so that releasing a frame to 500
// sessions costs a few string replacements each instead of a deep substitution walk and a JSON.stringify.
// Only frames whose every session-specific value is a plain string substitution are templated: no echo of
// the client's own activity (it carries the live client's channelData/text), no streamUrl, no attachment URL
// on the upstream, no unredacted token. Everything else takes the general path (Session.serveActivity);
// both give the same bytes (test/replay/frame-template.test.ts).
import { isPlaceholder, mayHoldPlaceholder, PLACEHOLDERS_IN_TEXT } from '../cassette/placeholders.js';
import { isAttachmentUrlKey } from '../protocol/attachment-urls.js';
import type { Activity } from '../protocol/types.js';
import type { ActivitiesItem, ConversationModel } from './conversation-model.js';

/** Stands for the live delivery time in a template: U+0001 cannot survive JSON.stringify unescaped. */
const RELEASED_AT = '\u0001released-at\u0001';
const RELEASED_AT_JSON = `"timestamp":${JSON.stringify(RELEASED_AT)}`;
/** A control character: JSON-escaped, one could spell RELEASED_AT. */
const CONTROL = /[\u0000-\u001f]/;

/** The values one session puts into a template. */
export interface TemplateFill {
  recordedConversationId: string | null;
  liveConversationId: string | null;
  recordedUserId: string | undefined;
  liveUserId: string | undefined;
  token: (placeholder: string) => string;
  /** The live delivery time, in the service's timestamp form (frames only). */
  releasedAt?: string;
  /** The session's stream URL for a recorded one (reply templates made with streamUrls). */
  streamUrl?: (recorded: string) => string;
}

/**
 * A JSON value serialised once, whose session-specific parts are plain string substitutions: the recorded
 * conversation id, placeholders, the recorded user id as an `id`/`userId`, and (frames) the delivery time.
 */
export class JsonTemplate {
  /** The text split at the recorded conversation id (one part when it is not in it). */
  private readonly parts: string[];
  private readonly placeholders: boolean;
  private readonly releasedAt: boolean;

  private constructor(
    private readonly text: string,
    private readonly recordedId: string | null,
    /** Recorded streamUrls, in order: slot i is streamUrlSlot(i) in the text, filled in last (fill.streamUrl). */
    private readonly streamUrls: readonly string[],
  ) {
    this.parts = recordedId ? text.split(recordedId) : [text];
    this.placeholders = mayHoldPlaceholder(text);
    this.releasedAt = text.includes(RELEASED_AT_JSON);
  }

  /**
   * The template of a value, or null when some string needs the general path (an upstream URL, a raw token,
   * or a streamUrl unless `streamUrls`: then each is a slot the session fills with its own stream URL).
   */
  static of(
    value: unknown,
    ids: { recordedId: string | null; userId: string | undefined },
    isUpstreamUrl: (url: string) => boolean,
    streamUrls = false,
  ): JsonTemplate | null {
    const recorded: string[] = [];
    const slotted = streamUrls ? withStreamUrlSlots(value, '', recorded) : value;
    if (!plainStrings(slotted, isUpstreamUrl)) return null;
    const { recordedId: rec, userId: user } = ids;
    // Replacing one id must not touch the other.
    if (rec && user && (rec.includes(user) || user.includes(rec))) return null;
    return new JsonTemplate(JSON.stringify(slotted), rec, recorded);
  }

  render(fill: TemplateFill): string {
    const { recordedUserId: fromUser, liveUserId: toUser } = fill;
    const from = fill.recordedConversationId;
    const to = fill.liveConversationId;
    const userChanges = fromUser !== undefined && toUser !== undefined && fromUser !== toUser;
    // Without a user id to replace, the conversation id goes into the parts split once at it.
    const fast = !userChanges && from === this.recordedId;
    let out = fast && from && to && from !== to ? this.parts.join(jsonInner(to)) : this.text;
    if (!fast) {
      if (userChanges) {
        // As Substituter does: an `id`/`userId` whose whole value is the recorded user id becomes the live one.
        const pattern = new RegExp(`"(id|userid)":${escapeRegExp(JSON.stringify(fromUser))}`, 'gi');
        out = out.replace(pattern, (_m, key: string) => `"${key}":${JSON.stringify(toUser)}`);
      }
      if (from && to && from !== to && out.includes(from)) out = out.split(from).join(jsonInner(to));
    }
    // What the recorded text lacks is looked for only when a live value could have brought it.
    const brought = !fast || (to !== null && (mayHoldPlaceholder(to) || CONTROL.test(to)));
    if ((this.placeholders || brought) && mayHoldPlaceholder(out)) out = out.replace(PLACEHOLDERS_IN_TEXT, (m) => jsonInner(fill.token(m)));
    if (fill.releasedAt !== undefined && (this.releasedAt || brought) && out.includes(RELEASED_AT_JSON)) {
      out = out.split(RELEASED_AT_JSON).join(`"timestamp":${JSON.stringify(fill.releasedAt)}`);
    }
    // Last, as the general path substitutes nothing in a stream URL it made.
    for (let i = 0; i < this.streamUrls.length; i++) {
      const url = fill.streamUrl!(this.streamUrls[i]);
      out = out.replace(STREAM_URL_SLOTS[i] ?? streamUrlSlotJson(i), () => JSON.stringify(url));
    }
    return out;
  }
}

/** The template of a recorded frame, or null when it needs the general path. */
function frameTemplate(item: ActivitiesItem, model: ConversationModel, isUpstreamUrl: (url: string) => boolean): JsonTemplate | null {
  if (!item.frame) return null;
  const echoIds = echoIdsOf(model);
  const activities: Activity[] = [];
  for (const i of item.entries) {
    const entry = model.log[i];
    if (entry.id !== undefined && echoIds.has(entry.id)) return null;
    const a = { ...entry.activity };
    if (typeof a.timestamp === 'string') a.timestamp = RELEASED_AT;
    activities.push(a);
  }
  const frame: Record<string, unknown> = { ...item.frame.extra, activities };
  if (item.frame.hasWatermark) frame.watermark = item.frame.watermark;
  return JsonTemplate.of(frame, { recordedId: model.recordedId, userId: model.userId }, isUpstreamUrl);
}

const templates = new WeakMap<object, JsonTemplate | null>();

/** The template of a recorded frame, made on first use and shared by every session. */
export function templateOf(item: ActivitiesItem, model: ConversationModel, isUpstreamUrl: (url: string) => boolean): JsonTemplate | null {
  return cached(item, () => frameTemplate(item, model, isUpstreamUrl));
}

/** The template of a recorded JSON response body (keyed by its recorded event), made on first use. */
export function replyTemplateOf(
  key: object,
  body: unknown,
  model: ConversationModel,
  isUpstreamUrl: (url: string) => boolean,
): JsonTemplate | null {
  return cached(key, () => JsonTemplate.of(body, { recordedId: model.recordedId, userId: model.userId }, isUpstreamUrl, true));
}

function cached(key: object, make: () => JsonTemplate | null): JsonTemplate | null {
  let t = templates.get(key);
  if (t === undefined) {
    t = make();
    templates.set(key, t);
  }
  return t;
}

const echoes = new WeakMap<ConversationModel, Set<string>>();

function echoIdsOf(model: ConversationModel): Set<string> {
  let ids = echoes.get(model);
  if (!ids) {
    ids = new Set(model.echoOf.values());
    echoes.set(model, ids);
  }
  return ids;
}

/** A streamUrl slot: U+0002 cannot survive JSON.stringify unescaped, so no recorded or live string spells it. */
function streamUrlSlot(i: number): string {
  return `\u0002stream-url-${i}\u0002`;
}

function streamUrlSlotJson(i: number): string {
  return JSON.stringify(streamUrlSlot(i));
}

const STREAM_URL_SLOTS = [0, 1, 2, 3].map(streamUrlSlotJson);

/** A copy of a JSON value with every `streamUrl` string replaced by its slot (the recorded values pushed to `out`). */
function withStreamUrlSlots(v: unknown, key: string, out: string[]): unknown {
  if (typeof v === 'string') {
    if (key.toLowerCase() !== 'streamurl') return v;
    out.push(v);
    return streamUrlSlot(out.length - 1);
  }
  if (Array.isArray(v)) return v.map((x) => withStreamUrlSlots(x, '', out));
  if (v && typeof v === 'object') {
    const copy: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) copy[k] = withStreamUrlSlots(x, k, out);
    return copy;
  }
  return v;
}

/** Whether every string of a JSON value is one the template can fill in by plain replacement. */
function plainStrings(value: unknown, isUpstreamUrl: (url: string) => boolean): boolean {
  const stack: Array<[unknown, string]> = [[value, '']];
  while (stack.length) {
    const [v, key] = stack.pop()!;
    if (typeof v === 'string') {
      const k = key.toLowerCase();
      if (k === 'streamurl' && !v.startsWith('\u0002stream-url-')) return false;
      if (isAttachmentUrlKey(k) && isUpstreamUrl(v)) return false;
      if (k === 'token' && v !== '' && !isPlaceholder(v)) return false;
      continue;
    }
    if (Array.isArray(v)) for (const x of v) stack.push([x, '']);
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) stack.push([x, k]);
  }
  return true;
}

let lastInner: [string, string] = ['', ''];

/** A string as it appears inside a JSON string literal (without the quotes); the last one is kept (a session's id, over and over). */
function jsonInner(s: string): string {
  if (lastInner[0] !== s) lastInner = [s, JSON.stringify(s).slice(1, -1)];
  return lastInner[1];
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
