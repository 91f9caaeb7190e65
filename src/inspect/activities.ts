// What the inspectors share: which conversation an event belongs to, the activities an event carries,
// which activities the client itself posted (so their echoes can be told apart from the bot's), and a
// one-line summary of an activity.
import type { Cassette, CassetteEvent, HttpEvent } from '../cassette/schema.js';
import { matchRoute, stripBase } from '../protocol/routes.js';
import { isActivitySet, type Activity } from '../protocol/types.js';

/** Routes whose response `{id}` names an activity the client sent. */
const SEND_ROUTES = new Set(['activities.post', 'upload']);

export function isSendRoute(route: string): boolean {
  return SEND_ROUTES.has(route);
}

/**
 * Attributes every event to a conversation: the id the recorder stamped, else the socket's conversation
 * (from its ws.open), else the id in the request path, else the `conversationId` of the response body
 * (tokens.generate names the conversation it fixes).
 */
export class ConversationIndex {
  private readonly bySocket = new Map<number, string | null>();
  private readonly order: Array<string | null> = [];
  private readonly seen = new Set<string | null>();

  constructor(private readonly cassette: Cassette) {
    for (const e of cassette.events) {
      if (e.type === 'ws.open') this.bySocket.set(e.socket, e.conversationId ?? this.fromPath(e.path));
    }
    for (const e of cassette.events) {
      const id = this.of(e);
      if (!this.seen.has(id)) {
        this.seen.add(id);
        this.order.push(id);
      }
    }
  }

  of(e: CassetteEvent): string | null {
    if (e.conversationId) return e.conversationId;
    if (e.type === 'ws.message' || e.type === 'ws.close') return this.bySocket.get(e.socket) ?? null;
    if (e.type === 'ws.open') return this.fromPath(e.path);
    const fromPath = this.fromPath(e.request.path, e.request.method);
    if (fromPath) return fromPath;
    const body = e.response?.body;
    if (body && 'json' in body && body.json && typeof body.json === 'object') {
      const id = (body.json as { conversationId?: unknown }).conversationId;
      if (typeof id === 'string' && id) return id;
    }
    return null;
  }

  /** Conversations in order of first appearance; null stands for events of no conversation. */
  conversations(): Array<string | null> {
    return [...this.order];
  }

  private fromPath(path: string, method = 'GET'): string | null {
    const sub = stripBase(path, this.cassette.upstream.basePath);
    if (sub === null) return null;
    return matchRoute(method, sub).conversationId;
  }
}

/** The activities an event delivers to the client: a stream frame's ActivitySet or a GET's response. */
export function deliveredActivities(e: CassetteEvent): { activities: Activity[]; watermark?: string | null } | null {
  if (e.type === 'ws.message') {
    if (e.from !== 'server' || !('json' in e.data) || !isActivitySet(e.data.json)) return null;
    return e.data.json;
  }
  if (e.type === 'http' && e.response && e.response.body && 'json' in e.response.body && isActivitySet(e.response.body.json)) {
    return e.response.body.json;
  }
  return null;
}

/** The activity a client posted in an activities.post request, if the body is one. */
export function postedActivity(e: HttpEvent): Activity | null {
  if (e.route !== 'activities.post') return null;
  const b = e.request.body;
  if (b && 'json' in b && b.json && typeof b.json === 'object' && !Array.isArray(b.json)) return b.json as Activity;
  return null;
}

/** The activity id a send returned (`{"id": "..."}`), if it succeeded. */
export function sentActivityId(e: HttpEvent): string | null {
  if (!isSendRoute(e.route)) return null;
  const b = e.response?.body;
  if (b && 'json' in b && b.json && typeof b.json === 'object') {
    const id = (b.json as { id?: unknown }).id;
    if (typeof id === 'string' && id) return id;
  }
  return null;
}

/** What the client sent: the ids the service assigned to its activities and the user ids it posted as. */
export interface ClientIdentity {
  activityIds: Set<string>;
  userIds: Set<string>;
}

export function clientIdentity(cassette: Cassette): ClientIdentity {
  const activityIds = new Set<string>();
  const userIds = new Set<string>();
  for (const e of cassette.events) {
    if (e.type !== 'http') continue;
    const id = sentActivityId(e);
    if (id) activityIds.add(id);
    const posted = postedActivity(e);
    const from = posted?.from?.id;
    if (typeof from === 'string' && from) userIds.add(from);
  }
  return { activityIds, userIds };
}

export type Role = 'user' | 'bot';

/**
 * 'user' when the activity is one the client posted (its id came back from a send, or it is from a user id
 * the client posted as), the recorded role when there is one, else 'bot'.
 */
export function roleOf(a: Activity, client: ClientIdentity): Role | string {
  const recorded = a.from?.role;
  if (typeof recorded === 'string' && recorded) return recorded;
  if (typeof a.id === 'string' && client.activityIds.has(a.id)) return 'user';
  if (typeof a.from?.id === 'string' && client.userIds.has(a.from.id)) return 'user';
  return 'bot';
}

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

export function summarizeActivity(a: Activity, client: ClientIdentity, textMax = 60): ActivitySummary {
  const role = roleOf(a, client);
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

/** Epoch milliseconds of an event (cassette.createdAt + t); createdAt that does not parse counts as 0. */
export function epochMs(cassette: Cassette, t: number): number {
  const base = Date.parse(cassette.createdAt);
  return (Number.isFinite(base) ? base : 0) + t;
}
