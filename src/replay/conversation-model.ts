// What one recorded conversation looks like to the replayer, built once at load time: the recorded HTTP
// requests as per-route queues, the activity log (distinct activities from WS frames and GET responses,
// in recorded order, each with its watermark) and the stream items (activity frames, keep-alives, server
// closes), each tied to the client action that caused it and the delay after it.
import type { FrameData, HttpEvent, WsMessageEvent, WsOpenEvent } from '../cassette/schema.js';
import type { Activity } from '../protocol/types.js';
import { Route, type RouteName } from '../protocol/routes.js';
import {
  bodyJson, deliveredSet, isKeepAlive, watermarkString,
  type ActivityView, type CassetteModel, type Cause, type ConversationView, type DeliveryView, type ExchangeView,
} from '../model/index.js';

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
  /**
   * For activities first seen by a poll: when a polling client gets them (ms after the cause), halfway between
   * the previous poll that did not return them (or the cause) and the poll that did; a client polling at the
   * recorded cadence gets them on the same poll as the recording, one that polls faster no later. Stream
   * clients get them after `delay` (when the recorded poll's answer was complete).
   */
  earliest?: number;
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
  requests: Map<RouteName, RecordedRequest[]>;
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

/** One replay model per conversation of the cassette's read model (exchanges tied to none stand alone). */
export function buildConversationModels(cassette: CassetteModel): ConversationModel[] {
  const models: ConversationModel[] = [];
  for (const c of cassette.conversations) {
    // Sockets tied to no conversation cannot be reached by a live client: nothing to replay.
    if (!c.exchanges.some(isReplayedExchange)) continue;
    models.push(buildModel(models.length, c));
  }
  return models;
}

/** Attachment GETs are served by path to any session (attachments.ts), never matched in a conversation. */
function isReplayedExchange(x: ExchangeView): boolean {
  return x.policy.replay !== 'byPath';
}

function buildModel(ordinal: number, c: ConversationView): ConversationModel {
  const requests = new Map<RouteName, RecordedRequest[]>();
  const typingPosts: RecordedRequest[] = [];
  const echoOf = new Map<number, string>();
  let pollHeaders: Record<string, string> | undefined;
  let firstRoute: RouteName = Route.unknown;
  for (const x of c.exchanges) {
    if (!isReplayedExchange(x)) continue;
    if (firstRoute === Route.unknown) firstRoute = x.route;
    if (x.echoId) echoOf.set(x.index, x.echoId);
    if (x.policy.replay === 'activityLog') {
      if (x.event.response?.status === 200) pollHeaders ??= x.event.response.headers;
      continue;
    }
    if (x.typing) typingPosts.push({ ev: x.event, index: x.index });
    else pushTo(requests, x.route, { ev: x.event, index: x.index });
  }

  const log: LogEntry[] = [];
  const items: StreamItem[] = [];
  const watermarkIndex = new Map<string, number>();
  const deliveries = new Map(c.deliveries.map((d) => [d.index, d]));
  const byId = new Map(c.log.flatMap((a) => (a.id === undefined ? [] : [[a.id, a] as const])));
  // When the poll before each poll had its answer: activities a poll found existed only after that.
  const previousPollEnd = new Map<number, number>();
  let lastPollEnd = -Infinity;
  for (const x of c.exchanges) {
    if (x.policy.replay !== 'activityLog') continue;
    previousPollEnd.set(x.index, lastPollEnd);
    lastPollEnd = Math.max(lastPollEnd, x.event.t + x.event.duration);
  }

  const addDelivery = (d: DeliveryView) => {
    // A stream frame reaches the client as one item; a poll's activities each count from their own cause.
    const groups = d.via === 'frame' ? (d.fresh.length ? [d.fresh] : []) : d.fresh.map((a) => [a]);
    const frame = d.via === 'frame' ? frameOf(d) : null;
    for (const group of groups) {
      const cause = latestCause(group);
      // A poll's activities reached the recorded client when its answer was complete; a frame's when it was relayed.
      const deliveredAt = d.via === 'poll' && d.event.type === 'http' ? d.event.t + d.event.duration : d.event.t;
      const delay = Math.max(0, deliveredAt - cause.t);
      const item: ActivitiesItem = { kind: 'activities', cause: causeKey(cause), delay, t: d.event.t, entries: [], frame };
      if (d.via === 'poll') {
        // They came into being between the previous poll's answer (or their cause) and this poll's arrival.
        // Released halfway: a live client polling at the recorded cadence, its polls shifted by up to half an
        // interval against the recording's (its own latencies differ), finds them on the same poll.
        const from = Math.max(previousPollEnd.get(d.index) ?? -Infinity, cause.t);
        item.earliest = Math.min(item.delay, Math.max(0, (from + d.event.t) / 2 - cause.t));
      }
      const itemIndex = items.length;
      items.push(item);
      for (const a of group) {
        const entry: LogEntry = { index: log.length, activity: a.activity, id: a.id, typing: a.typing, watermark: undefined, item: itemIndex };
        log.push(entry);
        item.entries.push(entry.index);
      }
    }
    // The set's watermark belongs to its last activity (the max watermark in the set, docs/protocol.md#watermarks).
    const wm = watermarkString(d.set.watermark);
    const last = d.set.activities[d.set.activities.length - 1];
    if (wm !== undefined && last && !watermarkIndex.has(wm)) {
      const view = typeof last.id === 'string' ? byId.get(last.id) : c.log[log.length - 1];
      const entry = view ? log[view.position] : undefined;
      if (entry && !entry.typing && entry.watermark === undefined) {
        entry.watermark = wm;
        watermarkIndex.set(wm, entry.index);
      }
    }
  };

  for (const e of c.events) {
    const delivery = deliveries.get(e.index);
    if (delivery) {
      addDelivery(delivery);
      continue;
    }
    const ev = e.event;
    if (ev.type === 'ws.message') {
      if (ev.from !== 'server') continue; // client pings are not replayed
      if (deliveredSet(ev)) continue; // an ActivitySet that brought nothing new
      const ordinal = socketOrdinal(c, ev.socket);
      const base = { cause: causeKey(e.cause), delay: Math.max(0, ev.t - e.cause.t), t: ev.t, ordinal };
      if (isKeepAlive(ev)) items.push({ kind: 'keepalive', ...base, text: (ev.data as { text: string }).text });
      else items.push({ kind: 'raw', ...base, data: ev.data });
    } else if (ev.type === 'ws.close') {
      if (ev.by !== 'server') continue; // client closes happen live; 'proxy' was the recorder shutting down
      items.push({
        kind: 'close', cause: causeKey(e.cause), delay: Math.max(0, ev.t - e.cause.t), t: ev.t, ordinal: socketOrdinal(c, ev.socket),
        code: ev.code, reason: ev.reason,
      });
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

  const sockets = c.sockets.flatMap((s) => (s.open ? [s.open.event] : []));
  return { ordinal, recordedId: c.id, firstRoute, requests, typingPosts, log, items, watermarkIndex, sockets, userId: c.userId, echoOf, pollHeaders };
}

function causeKey(c: Cause): CauseKey {
  return c.kind === 'session' ? SESSION_CAUSE : c.kind === 'attach' ? ATTACH_CAUSE : httpCause(c.index);
}

/** The latest of the group's causes: an item goes out once all its activities' causes happened. */
function latestCause(group: ActivityView[]): Cause {
  let c = group[0].cause;
  for (const a of group) if (a.cause.t >= c.t) c = a.cause;
  return c;
}

function frameOf(d: DeliveryView): ActivitiesItem['frame'] {
  const json = bodyJson((d.event as WsMessageEvent).data) as Record<string, unknown>;
  const { activities: _activities, watermark, ...extra } = json;
  return { watermark, hasWatermark: Object.hasOwn(json, 'watermark'), extra };
}

function socketOrdinal(c: ConversationView, socket: number): number {
  return c.sockets.find((s) => s.socket === socket)?.ordinal ?? c.sockets.length + 1;
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

