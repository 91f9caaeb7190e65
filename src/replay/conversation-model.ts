// What one recorded conversation looks like to the replayer, built once at load time: the recorded HTTP
// requests as per-route queues, the activity log (distinct activities from WS frames and GET responses,
// in recorded order, each with its watermark) and the stream items (activity frames, keep-alives, server
// closes), each tied to the client action that caused it and the delay after it.
import type { CassetteEvent, FrameData, HttpEvent, WsOpenEvent } from '../cassette/schema.js';
import type { Activity } from '../protocol/types.js';
import { isActivitySet } from '../protocol/types.js';
import type { RouteName } from '../protocol/routes.js';

/**
 * What an item waits for: 'session' (the live session was created), 'attach' (the live client first opened
 * a stream or polled) or `http:<i>` (the live request matched to the recorded HTTP event cassette.events[i]).
 */
export type CauseKey = string;

export const SESSION_CAUSE: CauseKey = 'session';
export const ATTACH_CAUSE: CauseKey = 'attach';
export const httpCause = (index: number): CauseKey => `http:${index}`;

/** A recorded request and its position in cassette.events (its identity: events carry no id of their own). */
export interface RecordedRequest {
  ev: HttpEvent;
  index: number;
}

/** Routes whose requests are client actions that bot activities react to (besides stream attach). */
const CAUSE_ROUTES = new Set<string>(['conversations.start', 'activities.post', 'upload']);

export interface LogEntry {
  /** Position in the activity log. */
  index: number;
  /** The recorded activity (placeholders and recorded ids still in it). */
  activity: Activity;
  id: string | undefined;
  /** Typing is delivered on the stream only, never by GET (docs/protocol.md#typing). */
  typing: boolean;
  /** The recorded watermark, or a synthetic one when the recording had none for this activity; undefined for typing. */
  watermark: string | undefined;
  /** The item that releases this entry. */
  item: number;
}

interface ItemBase {
  cause: CauseKey;
  /** Recorded milliseconds between the cause and this item. */
  delay: number;
  /** Recorded time (ms since the cassette started), for logs. */
  t: number;
}

/** Activities that reach the client together: one recorded frame, or one activity first seen by a poll. */
export interface ActivitiesItem extends ItemBase {
  kind: 'activities';
  /** Log indices of the (new, deduplicated) activities. */
  entries: number[];
  /** Frame as recorded on the stream (its watermark, other keys), or null when first seen in a GET response. */
  frame: { watermark: unknown; hasWatermark: boolean; extra: Record<string, unknown> } | null;
}

/** An empty server frame (keep-alive) for the socket with this ordinal. */
export interface KeepAliveItem extends ItemBase { kind: 'keepalive'; ordinal: number; text: string }
/** A server frame that is not an ActivitySet (future root types, binary), for the socket with this ordinal. */
export interface RawItem extends ItemBase { kind: 'raw'; ordinal: number; data: FrameData }
/** The server closed socket <ordinal> with this code and reason. */
export interface CloseItem extends ItemBase { kind: 'close'; ordinal: number; code: number; reason: string }

export type StreamItem = ActivitiesItem | KeepAliveItem | RawItem | CloseItem;

export interface ConversationModel {
  /** Position among the cassette's conversations (in order of their first event). */
  ordinal: number;
  /** null for a request the upstream never tied to a conversation (e.g. a failed tokens/generate). */
  recordedId: string | null;
  firstRoute: RouteName;
  /** Recorded requests by route, in order (polls excluded: they are served from the log). */
  requests: Map<string, RecordedRequest[]>;
  /** activities.post requests whose activity is `typing`, kept apart (clients send them at their own pace). */
  typingPosts: RecordedRequest[];
  log: LogEntry[];
  items: StreamItem[];
  /** Recorded watermark string → index of the log entry it points at (the last activity of its set). */
  watermarkIndex: Map<string, number>;
  /** Recorded stream handshakes by socket ordinal (index 0 = the first socket). */
  sockets: WsOpenEvent[];
  /** Recorded user id (start/generate body user.id, else the first posted activity's from.id). */
  userId: string | undefined;
  /** Recorded POST/upload event index → id of its echo activity (the response's {id}). */
  echoOf: Map<number, string>;
  /** Response headers of a recorded poll, reused for polls served from the log. */
  pollHeaders: Record<string, string> | undefined;
}

/** An event and its position in cassette.events. */
interface Indexed {
  ev: CassetteEvent;
  index: number;
}

/** Splits a cassette's events into conversations and builds each one's model. */
export function buildConversationModels(events: CassetteEvent[], conversationOfPath: (path: string) => string | null): ConversationModel[] {
  const groups = new Map<string, Indexed[]>();
  const socketConversation = new Map<number, string>();
  const order: Array<{ key: string | null; events: Indexed[] }> = [];
  events.forEach((ev, index) => {
    // Attachment GETs are served by path to any session (attachments.ts), never matched in a conversation.
    if (ev.type === 'http' && ev.route === 'attachment') return;
    let id = ev.conversationId;
    if (ev.type === 'ws.open') {
      id ??= conversationOfPath(ev.path);
      if (id !== null) socketConversation.set(ev.socket, id);
    } else if (ev.type === 'ws.message' || ev.type === 'ws.close') {
      id ??= socketConversation.get(ev.socket) ?? null;
    }
    if (id === null) {
      // A request never tied to a conversation stands alone (it is replayed as recorded, e.g. a 403 generate).
      if (ev.type === 'http') order.push({ key: null, events: [{ ev, index }] });
      return;
    }
    let group = groups.get(id);
    if (!group) {
      group = [];
      groups.set(id, group);
      order.push({ key: id, events: group });
    }
    group.push({ ev, index });
  });
  return order.map((g, i) => buildModel(i, g.key, g.events));
}

function buildModel(ordinal: number, recordedId: string | null, unsorted: Indexed[]): ConversationModel {
  // Cassettes are in time order already; sorting (stable, by t) guards against hand-made ones.
  const evs = [...unsorted].sort((a, b) => a.ev.t - b.ev.t || a.index - b.index);
  const requests = new Map<string, RecordedRequest[]>();
  const typingPosts: RecordedRequest[] = [];
  const typingIndices = new Set<number>();
  const echoOf = new Map<number, string>();
  const echoPost = new Map<string, { t: number; index: number }>();
  const sockets: WsOpenEvent[] = [];
  const socketOrdinal = new Map<number, number>();
  let firstRoute: RouteName = 'unknown';
  let userId: string | undefined;
  let pollHeaders: Record<string, string> | undefined;

  // Pass 1: requests, sockets, echo ids, the recorded user.
  for (const { ev, index } of evs) {
    if (ev.type === 'ws.open') {
      sockets.push(ev);
      socketOrdinal.set(ev.socket, sockets.length);
      continue;
    }
    if (ev.type !== 'http') continue;
    if (firstRoute === 'unknown') firstRoute = ev.route as RouteName;
    if (ev.route === 'activities.get') {
      if (ev.response?.status === 200) pollHeaders ??= ev.response.headers;
      continue;
    }
    const body = jsonOf(ev.request.body);
    if (ev.route === 'activities.post' && (body as Activity | undefined)?.type === 'typing') {
      typingPosts.push({ ev, index });
      typingIndices.add(index);
    } else {
      pushTo(requests, ev.route, { ev, index });
    }
    if (ev.route === 'tokens.generate' || ev.route === 'conversations.start') userId ??= userIdOfStartBody(body);
    if (ev.route === 'activities.post') userId ??= stringOr((body as Activity | undefined)?.from?.id);
    if (ev.route === 'upload') userId ??= ev.request.query.userId || undefined;
    if (ev.route === 'activities.post' || ev.route === 'upload') {
      const id = stringOr((jsonOf(ev.response?.body ?? null) as { id?: unknown } | undefined)?.id);
      if (id) {
        echoOf.set(index, id);
        echoPost.set(id, { t: ev.t, index });
      }
    }
  }

  // Pass 2: the activity log and the stream items, each with its cause.
  const log: LogEntry[] = [];
  const items: StreamItem[] = [];
  const byId = new Map<string, LogEntry>();
  const watermarkIndex = new Map<string, number>();
  let cause = { key: SESSION_CAUSE, t: evs.length ? evs[0].ev.t : 0 };
  let attached = false;

  const causeFor = (activities: Activity[], t: number) => {
    // An echo never precedes the POST it echoes, even when a poll that started earlier returned it.
    let c = cause;
    for (const a of activities) {
      const post = a.id !== undefined ? echoPost.get(a.id) : undefined;
      if (post && post.t >= c.t && httpCause(post.index) !== c.key) c = { key: httpCause(post.index), t: post.t };
    }
    return { key: c.key, delay: Math.max(0, t - c.t) };
  };

  const addSet = (activities: Activity[], watermark: unknown, t: number, frame: ActivitiesItem['frame'], perActivity: boolean) => {
    const fresh: Activity[] = [];
    for (const a of activities) {
      if (!a || typeof a !== 'object') continue;
      const id = typeof a.id === 'string' ? a.id : undefined;
      if (id !== undefined && byId.has(id)) continue;
      fresh.push(a);
    }
    const groups = perActivity ? fresh.map((a) => [a]) : fresh.length ? [fresh] : [];
    for (const group of groups) {
      const { key, delay } = causeFor(group, t);
      const item: ActivitiesItem = { kind: 'activities', cause: key, delay, t, entries: [], frame };
      const itemIndex = items.length;
      items.push(item);
      for (const a of group) {
        const id = typeof a.id === 'string' ? a.id : undefined;
        const entry: LogEntry = { index: log.length, activity: a, id, typing: a.type === 'typing', watermark: undefined, item: itemIndex };
        log.push(entry);
        if (id !== undefined) byId.set(id, entry);
        item.entries.push(entry.index);
      }
    }
    // The set's watermark belongs to its last activity (docs/protocol.md#watermarks).
    const wm = watermarkString(watermark);
    const last = activities[activities.length - 1];
    if (wm !== undefined && last && !watermarkIndex.has(wm)) {
      const entry = typeof last.id === 'string' ? byId.get(last.id) : log[log.length - 1];
      if (entry && !entry.typing && entry.watermark === undefined) {
        entry.watermark = wm;
        watermarkIndex.set(wm, entry.index);
      }
    }
  };

  for (const { ev, index } of evs) {
    if (ev.type === 'http') {
      // A posted `typing` is no cause: clients send those at their own pace (or not at all).
      if (CAUSE_ROUTES.has(ev.route) && !typingIndices.has(index)) cause = { key: httpCause(index), t: ev.t };
      if (ev.route === 'activities.get') {
        if (!attached) {
          attached = true;
          cause = { key: ATTACH_CAUSE, t: ev.t };
        }
        const body = jsonOf(ev.response?.body ?? null);
        if (ev.response?.status === 200 && isActivitySet(body)) addSet(body.activities, body.watermark, ev.t, null, true);
      }
    } else if (ev.type === 'ws.open') {
      if (!attached) {
        attached = true;
        cause = { key: ATTACH_CAUSE, t: ev.t };
      }
    } else if (ev.type === 'ws.message') {
      if (ev.from !== 'server') continue; // client pings are not replayed
      const ordinal = ordinalOf(socketOrdinal, ev.socket, sockets);
      const data = ev.data;
      if ('json' in data && isActivitySet(data.json)) {
        const { activities, watermark, ...extra } = data.json as { activities: Activity[]; watermark?: unknown };
        addSet(activities, watermark, ev.t, { watermark, hasWatermark: 'watermark' in (data.json as object), extra }, false);
      } else if ('text' in data && !('json' in data) && data.text.trim() === '') {
        items.push({ kind: 'keepalive', cause: cause.key, delay: ev.t - cause.t, t: ev.t, ordinal, text: data.text });
      } else {
        items.push({ kind: 'raw', cause: cause.key, delay: ev.t - cause.t, t: ev.t, ordinal, data });
      }
    } else if (ev.type === 'ws.close') {
      if (ev.by !== 'server') continue; // client closes happen live; 'proxy' was the recorder shutting down
      const ordinal = ordinalOf(socketOrdinal, ev.socket, sockets);
      items.push({ kind: 'close', cause: cause.key, delay: ev.t - cause.t, t: ev.t, ordinal, code: ev.code, reason: ev.reason });
    }
  }

  // Every stored activity gets a watermark a client can hand back; synthetic ones only where the recording had none.
  for (const entry of log) {
    if (entry.typing || entry.watermark !== undefined) continue;
    let wm = `vcr-${entry.index}`;
    while (watermarkIndex.has(wm)) wm += '_';
    entry.watermark = wm;
    watermarkIndex.set(wm, entry.index);
  }

  return { ordinal, recordedId, firstRoute, requests, typingPosts, log, items, watermarkIndex, sockets, userId, echoOf, pollHeaders };
}

function ordinalOf(map: Map<number, number>, socket: number, sockets: WsOpenEvent[]): number {
  let ordinal = map.get(socket);
  if (ordinal === undefined) {
    // A frame whose handshake was not recorded: give it the next ordinal so its keep-alives still have a home.
    ordinal = Math.max(sockets.length, ...map.values(), 0) + 1;
    map.set(socket, ordinal);
  }
  return ordinal;
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

export function jsonOf(body: { json: unknown } | { text: string } | { base64: string } | null): unknown {
  if (body === null) return undefined;
  if ('json' in body) return body.json;
  if ('text' in body) {
    const first = body.text.trimStart()[0];
    if (first === '{' || first === '[') {
      try {
        return JSON.parse(body.text);
      } catch { /* not JSON */ }
    }
  }
  return undefined;
}

/** Watermarks are opaque strings; numbers (offline-directline) are stringified; empty/null mean none. */
export function watermarkString(w: unknown): string | undefined {
  if (typeof w === 'string') return w === '' ? undefined : w;
  if (typeof w === 'number' && Number.isFinite(w)) return String(w);
  return undefined;
}

/** `user.id` of a start/generate body; property names are case-insensitive on the service (docs/protocol.md#routes). */
export function userIdOfStartBody(body: unknown): string | undefined {
  const user = getCI(body, 'user');
  return stringOr(getCI(user, 'id'));
}

export function getCI(obj: unknown, key: string): unknown {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return undefined;
  const rec = obj as Record<string, unknown>;
  if (key in rec) return rec[key];
  const lower = key.toLowerCase();
  for (const k of Object.keys(rec)) if (k.toLowerCase() === lower) return rec[k];
  return undefined;
}

function stringOr(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
