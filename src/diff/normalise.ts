// An activity reduced to what a conversation means, so two recordings of the same conversation compare
// equal: only the compared fields are kept (type, text, speak, inputHint, name, attachments,
// suggestedActions, channelData, value), and inside them whatever differs on every run is replaced by a
// marker: placeholders lose their number, conversation and activity ids, ISO timestamps and URLs on the
// recorded upstream (the service's private attachment links) become `<conversation>`, `<activity>`,
// `<timestamp>`, `<upstream URL>`. Fields a team knows are volatile are left out with JSON paths.
import { mayHoldPlaceholder, PLACEHOLDERS_IN_TEXT } from '../cassette/placeholders.js';
import { JsonPath, type JsonStep } from '../cassette/redact.js';
import type { Activity } from '../protocol/types.js';
import type { ActivityView } from './types.js';

/** What changes between two runs of one cassette's conversations, learnt from the cassette. */
export interface Volatile {
  /** The cassette's conversation ids (activity ids are `<conversationId>|<sequence>`). */
  conversationIds: readonly string[];
  /** Origin of the recorded upstream, e.g. https://directline.botframework.com. */
  upstreamOrigin: string;
}

/** The activity fields a diff compares, in the order reports show them. */
export const COMPARED_FIELDS = [
  'type',
  'name',
  'text',
  'speak',
  'inputHint',
  'attachments',
  'suggestedActions',
  'channelData',
  'value',
] as const;

/** JSON nested deeper than this is compared as a marker (a hostile cassette must not overflow the stack). */
const MAX_DEPTH = 200;

const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?$/;
const ACTIVITY_ID = /<conversation>\|[0-9A-Za-z]+/g;

export class ActivityNormaliser {
  private readonly ignore: JsonPath[];
  private readonly ids: string[];
  private readonly upstreamOrigins: string[];

  /** Throws JsonPathError for an ignore path that does not parse. */
  constructor(ignore: readonly string[] = [], volatile: Volatile[] = []) {
    this.ignore = ignore.map((p) => JsonPath.parse(p));
    // Longest first, so an id that contains another is replaced whole.
    this.ids = [...new Set(volatile.flatMap((v) => v.conversationIds).filter((id) => id.length >= 4))].sort((x, y) => y.length - x.length);
    this.upstreamOrigins = [...new Set(volatile.flatMap((v) => originVariants(v.upstreamOrigin)))];
  }

  /** The compared fields of an activity, volatile values replaced, ignored paths left out. */
  view(activity: Activity): ActivityView {
    const out: Record<string, unknown> = {};
    for (const field of COMPARED_FIELDS) {
      if (!Object.hasOwn(activity, field) || activity[field] === undefined || activity[field] === null) continue;
      const path: JsonStep[] = [field];
      if (this.ignored(path)) continue;
      out[field] = this.scrub(activity[field], path, 1);
    }
    if (typeof out.type !== 'string') out.type = typeof activity.type === 'string' ? activity.type : 'unknown';
    return out as unknown as ActivityView;
  }

  /** A user's activity as the key of its turn: what the user did, without the files' changing URLs. */
  userView(activity: Activity): ActivityView {
    const v = this.view(activity);
    if (Array.isArray(v.attachments)) {
      v.attachments = v.attachments.map((a) => {
        const att = a && typeof a === 'object' ? (a as Record<string, unknown>) : {};
        return { contentType: att.contentType, name: att.name };
      });
    }
    delete v.channelData; // clients put their own ids and timestamps here (clientActivityID, clientTimestamp)
    return v;
  }

  /** A string with its run-specific parts replaced by markers. */
  scrubText(s: string): string {
    if (ISO_TIMESTAMP.test(s)) return '<timestamp>';
    for (const origin of this.upstreamOrigins) if (s.startsWith(origin + '/') || s === origin) return '<upstream URL>';
    // A placeholder keeps its kind and loses its number (DLVCR_TOKEN_3 → DLVCR_TOKEN): numbering follows recording order.
    let out = mayHoldPlaceholder(s) ? s.replace(PLACEHOLDERS_IN_TEXT, (m) => m.replace(/_\d+$/, '')) : s;
    for (const id of this.ids) if (out.includes(id)) out = out.split(id).join('<conversation>');
    return out.includes('<conversation>|') ? out.replace(ACTIVITY_ID, '<activity>') : out;
  }

  private ignored(path: readonly JsonStep[]): boolean {
    if (this.ignore.length === 0) return false;
    // A path may start at the activity (`channelData.x`) or, as in redaction rules, at the set (`activities[*].channelData.x`).
    const inSet = ['activities', 0, ...path];
    return this.ignore.some((p) => p.matches(path) || p.matches(inSet));
  }

  private scrub(v: unknown, path: JsonStep[], depth: number): unknown {
    if (typeof v === 'string') return this.scrubText(v);
    if (v === null || typeof v !== 'object') return v;
    if (depth > MAX_DEPTH) return '<nested too deep to compare>';
    if (Array.isArray(v)) {
      const out: unknown[] = [];
      v.forEach((x, i) => {
        path.push(i);
        if (!this.ignored(path)) out.push(this.scrub(x, path, depth + 1));
        path.pop();
      });
      return out;
    }
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      path.push(k);
      // defineProperty: a key named __proto__ is data.
      if (!this.ignored(path))
        Object.defineProperty(out, k, { value: this.scrub(x, path, depth + 1), enumerable: true, writable: true, configurable: true });
      path.pop();
    }
    return out;
  }
}

/** http://h and ws://h, https://h and wss://h: the same upstream as the client reaches it. */
function originVariants(origin: string): string[] {
  if (!origin) return [];
  const o = origin.replace(/\/+$/, '');
  const m = /^(https?|wss?):\/\/(.*)$/i.exec(o);
  if (!m) return [o];
  const secure = /^(https|wss)$/i.test(m[1]);
  return secure ? [`https://${m[2]}`, `wss://${m[2]}`] : [`http://${m[2]}`, `ws://${m[2]}`];
}
