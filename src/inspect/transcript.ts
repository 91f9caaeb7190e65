// Bot Framework `.transcript` export: the JSON array of activities the Bot Framework Emulator opens
// (File → Open transcript). Each distinct activity once, in the order the client first saw it, with
// from.role telling the Emulator which side of the chat it belongs on.
import type { Cassette } from '../cassette/schema.js';
import { readModel, type ConversationView } from '../model/index.js';
import type { Activity, ChannelAccount } from '../protocol/types.js';
import { epochMs, selectGroups } from './activities.js';

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
  return readModel(cassette).conversations.flatMap((c) => (c.id === null ? [] : [c.id]));
}

interface Item {
  activity: Activity;
  role: string;
  t: number;
}

export function toTranscript(cassette: Cassette, opts: TranscriptOptions = {}): Activity[] {
  const model = readModel(cassette);
  const keepTyping = opts.typing ?? true;
  const named = model.conversations.filter((c): c is ConversationView & { id: string } => c.id !== null);
  const wanted = selectGroups(
    named.map((c) => ({ conversationId: c.id, c })),
    opts.conversation,
  );
  const result: Activity[] = [];
  // One conversation after the other (a transcript reads as one chat), each in the order it was seen.
  for (const { c } of wanted) {
    const items = itemsOf(c, opts.includeUnechoed ?? true, (a) => model.roleOf(a));
    // Who is who: the first user and the first bot account seen.
    const accounts: { user?: ChannelAccount; bot?: ChannelAccount } = {};
    for (const { activity, role } of items) {
      if (!activity.from || typeof activity.from !== 'object') continue;
      if (role === 'user') accounts.user ??= { ...activity.from, role: 'user' };
      if (role === 'bot') accounts.bot ??= { ...activity.from, role: 'bot' };
    }
    for (const { activity, role, t } of items) {
      if (!keepTyping && activity.type === 'typing') continue;
      const a: Activity = structuredClone(activity);
      a.from = { ...(a.from ?? {}), role };
      if (!a.recipient) {
        const other = role === 'user' ? accounts.bot : accounts.user;
        if (other) a.recipient = { ...other };
      }
      if (!a.conversation || typeof a.conversation !== 'object') a.conversation = { id: c.id };
      if (typeof a.channelId !== 'string' || !a.channelId) a.channelId = 'directline';
      if (typeof a.timestamp !== 'string' || !a.timestamp) a.timestamp = new Date(epochMs(cassette, t)).toISOString();
      result.push(a);
    }
  }
  return result;
}

/**
 * The conversation's activities in the order the client first saw them, plus (when asked) the client's posted
 * activities whose echo never came (e.g. the client stopped polling), built from the POST body and the id the
 * service returned, at the place the POST happened.
 */
function itemsOf(c: ConversationView, includeUnechoed: boolean, roleOf: (a: Activity) => string): Item[] {
  const items: Item[] = c.log.map((a) => ({ activity: a.activity, role: a.role, t: a.delivery.event.t }));
  if (!includeUnechoed) return items;
  const logged = new Set(c.log.flatMap((a) => (a.id === undefined ? [] : [a.id])));
  const missing: Array<{ at: number; item: Item }> = [];
  // Log entries are in event order: walking the events counts the ones delivered before each POST.
  const exchanges = new Map(c.exchanges.map((x) => [x.index, x]));
  let delivered = 0;
  for (const e of c.events) {
    while (delivered < c.log.length && c.log[delivered].delivery.index === e.index) delivered++;
    const x = exchanges.get(e.index);
    if (!x?.echoId || !x.posted || logged.has(x.echoId)) continue;
    const activity: Activity = { ...x.posted, id: x.echoId };
    missing.push({ at: delivered, item: { activity, role: roleOf(activity), t: x.event.t + x.event.duration } });
  }
  // Insert from the back so earlier positions stay valid.
  for (const { at, item } of missing.reverse()) items.splice(at, 0, item);
  return items;
}
