// What the inspectors show of an activity, and how they group a cassette for display; the meaning of
// events (conversations, roles, deliveries) comes from the read model (src/model/).
import type { Cassette } from '../cassette/schema.js';
import type { CassetteModel, ConversationEvent } from '../model/index.js';
import type { Activity } from '../protocol/types.js';

/** Whitespace folded to single spaces, cut to `max` characters with an ellipsis. */
export function oneLine(s: string, max = 60): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > max ? flat.slice(0, max - 1).trimEnd() + '…' : flat;
}

export interface ActivitySummary {
  type: string;
  id?: string;
  role: string;
  name?: string;
  /** First words of the text, one line, at most ~60 characters. */
  text?: string;
  attachments?: string[];
  /** A user's activity coming back from the service (stream or GET): the echo of a send. */
  echo?: boolean;
}

export function summarizeActivity(a: Activity, model: CassetteModel, textMax = 60): ActivitySummary {
  const role = model.roleOf(a);
  const out: ActivitySummary = { type: typeof a.type === 'string' ? a.type : 'unknown', role };
  if (typeof a.id === 'string') out.id = a.id;
  const name = typeof a.from?.name === 'string' && a.from.name ? a.from.name : typeof a.from?.id === 'string' ? a.from.id : undefined;
  if (name) out.name = name;
  if (typeof a.text === 'string' && a.text.trim()) out.text = oneLine(a.text, textMax);
  if (Array.isArray(a.attachments) && a.attachments.length) {
    out.attachments = a.attachments.map((att, i) => {
      if (att && typeof att === 'object') {
        if (typeof att.name === 'string' && att.name) return att.name;
        if (typeof att.contentType === 'string' && att.contentType) return att.contentType;
      }
      return `#${i + 1}`;
    });
  }
  // A user activity delivered by the service is the echo of something a client posted.
  if (role === 'user') out.echo = true;
  return out;
}

/** A conversation as the inspectors list it; everything tied to no conversation is one group (id null). */
export interface DisplayGroup {
  conversationId: string | null;
  events: ConversationEvent[];
}

/** The model's conversations in order of first appearance, the unattached ones folded into one group. */
export function displayGroups(model: CassetteModel): DisplayGroup[] {
  const groups: DisplayGroup[] = [];
  let none: DisplayGroup | null = null;
  for (const c of model.conversations) {
    if (c.id !== null) {
      groups.push({ conversationId: c.id, events: c.events });
    } else if (none) {
      none.events.push(...c.events);
    } else {
      none = { conversationId: null, events: [...c.events] };
      groups.push(none);
    }
  }
  none?.events.sort((a, b) => a.index - b.index);
  return groups;
}

/** Groups whose id is `wanted`, else those starting with it; all when nothing is wanted. */
export function selectGroups<G extends { conversationId: string | null }>(all: G[], wanted: string | undefined): G[] {
  if (wanted === undefined || wanted === '') return all;
  const exact = all.filter((g) => g.conversationId === wanted);
  if (exact.length) return exact;
  return all.filter((g) => g.conversationId?.startsWith(wanted));
}

/** Epoch milliseconds of an event (cassette.createdAt + t); createdAt that does not parse counts as 0. */
export function epochMs(cassette: Cassette, t: number): number {
  const base = Date.parse(cassette.createdAt);
  return (Number.isFinite(base) ? base : 0) + t;
}
