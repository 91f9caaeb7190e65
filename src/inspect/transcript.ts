// Bot Framework `.transcript` export: the JSON array of activities the Bot Framework Emulator opens
// (File → Open transcript). Each distinct activity once, in the order the client first saw it, with
// from.role telling the Emulator which side of the chat it belongs on.
import type { Cassette, HttpEvent } from '../cassette/schema.js';
import type { Activity, ChannelAccount } from '../protocol/types.js';
import {
  ConversationIndex, clientIdentity, deliveredActivities, epochMs, postedActivity, roleOf, sentActivityId,
} from './activities.js';

export interface TranscriptOptions {
  /** Only this conversation (exact id, or a prefix of one); default all, one after the other in order of first appearance. */
  conversation?: string;
  /** Keep typing activities (default true: the Emulator shows them). */
  typing?: boolean;
  /**
   * Add the client's posted activities whose echo the cassette never saw (e.g. the client stopped polling),
   * built from the POST body and the id the service returned (default true).
   */
  includeUnechoed?: boolean;
}

/** The conversations a transcript can be made of, in order of first appearance. */
export function transcriptConversations(cassette: Cassette): string[] {
  return new ConversationIndex(cassette).conversations().filter((c): c is string => c !== null);
}

export function toTranscript(cassette: Cassette, opts: TranscriptOptions = {}): Activity[] {
  const index = new ConversationIndex(cassette);
  const client = clientIdentity(cassette);
  const keepTyping = opts.typing ?? true;
  const all = index.conversations().filter((c): c is string => c !== null);
  const wanted = new Set(selectConversation(all, opts.conversation));

  interface Item { activity: Activity; conversationId: string; t: number }
  const out: Item[] = [];
  const seen = new Set<string>();
  // Posted activities waiting for their echo: id -> where they would go if it never comes.
  const posted = new Map<string, { activity: Activity; conversationId: string; t: number; at: number; event: HttpEvent }>();

  cassette.events.forEach((e) => {
    const conversationId = index.of(e);
    if (conversationId === null || !wanted.has(conversationId)) return;
    if (e.type === 'http') {
      const id = sentActivityId(e);
      const body = postedActivity(e);
      if (id && body && !seen.has(id) && !posted.has(id)) posted.set(id, { activity: body, conversationId, t: e.t, at: out.length, event: e });
    }
    const delivered = deliveredActivities(e);
    if (!delivered) return;
    for (const a of delivered.activities) {
      if (!a || typeof a !== 'object') continue;
      if (typeof a.id === 'string') {
        if (seen.has(a.id)) continue;
        seen.add(a.id);
        posted.delete(a.id);
      }
      out.push({ activity: a, conversationId, t: e.t });
    }
  });

  if (opts.includeUnechoed ?? true) {
    // Insert from the back so earlier positions stay valid.
    const missing = [...posted.entries()].sort((a, b) => b[1].at - a[1].at);
    for (const [id, p] of missing) {
      const activity: Activity = { ...p.activity, id };
      out.splice(p.at, 0, { activity, conversationId: p.conversationId, t: p.t + p.event.duration });
    }
  }

  // Who is who, per conversation: the first user and the first bot account seen.
  const accounts = new Map<string, { user?: ChannelAccount; bot?: ChannelAccount }>();
  for (const { activity, conversationId } of out) {
    const acc = accounts.get(conversationId) ?? {};
    const role = roleOf(activity, client);
    if (activity.from && typeof activity.from === 'object') {
      if (role === 'user' && !acc.user) acc.user = { ...activity.from, role: 'user' };
      if (role === 'bot' && !acc.bot) acc.bot = { ...activity.from, role: 'bot' };
    }
    accounts.set(conversationId, acc);
  }

  // One conversation after the other (a transcript reads as one chat), each in the order it was seen.
  const rank = new Map(all.map((id, i) => [id, i]));
  const ordered = out.map((item, i) => ({ item, i })).sort((a, b) => (rank.get(a.item.conversationId)! - rank.get(b.item.conversationId)!) || a.i - b.i);

  const result: Activity[] = [];
  for (const { item: { activity, conversationId, t } } of ordered) {
    if (!keepTyping && activity.type === 'typing') continue;
    const a: Activity = structuredClone(activity);
    const role = roleOf(activity, client);
    a.from = { ...(a.from ?? {}), role };
    const acc = accounts.get(conversationId) ?? {};
    if (!a.recipient) {
      const other = role === 'user' ? acc.bot : acc.user;
      if (other) a.recipient = { ...other };
    }
    if (!a.conversation || typeof a.conversation !== 'object') a.conversation = { id: conversationId };
    if (typeof a.channelId !== 'string' || !a.channelId) a.channelId = 'directline';
    if (typeof a.timestamp !== 'string' || !a.timestamp) a.timestamp = new Date(epochMs(cassette, t)).toISOString();
    result.push(a);
  }
  return result;
}

function selectConversation(all: string[], wanted: string | undefined): string[] {
  if (wanted === undefined || wanted === '') return all;
  if (all.includes(wanted)) return [wanted];
  return all.filter((id) => id.startsWith(wanted));
}
