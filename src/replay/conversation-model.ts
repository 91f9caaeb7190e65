// What one recorded conversation looks like to the replayer, built once at load time: the recorded HTTP
// requests as per-route queues, the activity log (distinct activities from WS frames and GET responses,
// in recorded order, each with its watermark) and the stream items (activity frames, keep-alives, server
// closes), each tied to the client action that caused it and the delay after it.
import type { FrameData, HttpEvent, WsMessageEvent, WsOpenEvent } from '../cassette/schema.js';
import type { Activity } from '../protocol/types.js';
import { Route, type RouteName } from '../protocol/routes.js';
import {
  bodyJson,
  deliveredSet,
  isKeepAlive,
  watermarkString,
  type ActivityView,
  type CassetteModel,
  type Cause,
  type ConversationView,
  type DeliveryView,
  type ExchangeView,
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
export interface KeepAliveItem extends ItemBase {
  kind: 'keepalive';
  ordinal: number;
  text: string;
}
/** A server frame that is not an ActivitySet (future root types, binary), for the socket with this ordinal. */
export interface RawItem extends ItemBase {
  kind: 'raw';
  ordinal: number;
  data: FrameData;
}
/** The server closed socket <ordinal> with this code and reason. */
export interface CloseItem extends ItemBase {
  kind: 'close';
  ordinal: number;
  code: number;
  reason: string;
}

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

/**
 * How long after the last byte of a poll's answer its activities count as received by the recorded client:
 * an HTTP client parses the answer and hands it on a few ms later, while a stream frame arrives almost at once.
 * Without it, a WebSocket client of a polling cassette would get replies a few ms before the recorded gap.
 */
const POLL_READ_MS = 10;

function buildModel(ordinal: number, c: ConversationView): ConversationModel {
  return new ModelBuilder(c).build(ordinal);
}

/** Builds one conversation's replay model from its read-model view, one concern per method. */
class ModelBuilder {
  private readonly log: LogEntry[] = [];
  private readonly items: StreamItem[] = [];
  private readonly watermarkIndex = new Map<string, number>();
  private readonly byId: Map<string, ActivityView>;
  /** When the poll before each poll had its answer: activities a poll found came into being after that. */
  private readonly previousPollEnd = new Map<number, number>();

  constructor(private readonly c: ConversationView) {
    this.byId = new Map(c.log.flatMap((a) => (a.id === undefined ? [] : [[a.id, a] as const])));
    let lastPollEnd = -Infinity;
    for (const x of c.exchanges) {
      if (x.policy.replay !== 'activityLog') continue;
      this.previousPollEnd.set(x.index, lastPollEnd);
      lastPollEnd = Math.max(lastPollEnd, x.event.t + x.event.duration);
    }
  }

  build(ordinal: number): ConversationModel {
    const c = this.c;
    const deliveries = new Map(c.deliveries.map((d) => [d.index, d]));
    for (const e of c.events) {
      const delivery = deliveries.get(e.index);
      if (delivery) this.deliver(delivery);
      else this.streamEvent(e);
    }
    this.syntheticWatermarks();
    const sockets = c.sockets.flatMap((s) => (s.open ? [s.open.event] : []));
    const { log, items, watermarkIndex } = this;
    return { ordinal, recordedId: c.id, ...recordedRequests(c), log, items, watermarkIndex, sockets, userId: c.userId };
  }

  /** A delivery's new activities: one item for a stream frame; one per activity for a poll (each counts from its own cause). */
  private deliver(d: DeliveryView): void {
    const groups = d.via === 'frame' ? (d.fresh.length ? [d.fresh] : []) : d.fresh.map((a) => [a]);
    const frame = d.via === 'frame' ? frameOf(d) : null;
    for (const group of groups) {
      const cause = latestCause(group);
      // A poll's activities reached the recorded client when its answer was complete and the client had read it
      // (a few ms after its last byte, POLL_READ_MS); a frame's when it was relayed.
      const deliveredAt = d.via === 'poll' && d.event.type === 'http' ? d.event.t + d.event.duration + POLL_READ_MS : d.event.t;
      const delay = Math.max(0, deliveredAt - cause.t);
      const item: ActivitiesItem = { kind: 'activities', cause: causeKey(cause), delay, t: d.event.t, entries: [], frame };
      if (d.via === 'poll') {
        // They came into being between the previous poll's answer (or their cause) and this poll's arrival.
        // Released halfway: a live client polling at the recorded cadence, its polls shifted by up to half an
        // interval against the recording's (its own latencies differ), finds them on the same poll.
        const from = Math.max(this.previousPollEnd.get(d.index) ?? -Infinity, cause.t);
        item.earliest = Math.min(item.delay, Math.max(0, (from + d.event.t) / 2 - cause.t));
      }
      const itemIndex = this.items.length;
      this.items.push(item);
      for (const a of group) {
        const entry: LogEntry = {
          index: this.log.length,
          activity: a.activity,
          id: a.id,
          typing: a.typing,
          watermark: undefined,
          item: itemIndex,
        };
        this.log.push(entry);
        item.entries.push(entry.index);
      }
    }
    this.recordedWatermark(d);
  }

  /** The set's watermark belongs to its last activity (the max watermark in the set, docs/protocol.md#watermarks). */
  private recordedWatermark(d: DeliveryView): void {
    const wm = watermarkString(d.set.watermark);
    const last = d.set.activities[d.set.activities.length - 1];
    if (wm === undefined || !last || this.watermarkIndex.has(wm)) return;
    const view = typeof last.id === 'string' ? this.byId.get(last.id) : this.c.log[this.log.length - 1];
    const entry = view ? this.log[view.position] : undefined;
    if (entry && !entry.typing && entry.watermark === undefined) {
      entry.watermark = wm;
      this.watermarkIndex.set(wm, entry.index);
    }
  }

  /** Server frames that deliver nothing (keep-alives, other payloads) and server closes, each for its socket. */
  private streamEvent(e: ConversationView['events'][number]): void {
    const ev = e.event;
    const timing = { cause: causeKey(e.cause), delay: Math.max(0, ev.t - e.cause.t), t: ev.t };
    if (ev.type === 'ws.message') {
      if (ev.from !== 'server') return; // client pings are not replayed
      if (deliveredSet(ev)) return; // an ActivitySet that brought nothing new
      const ordinal = socketOrdinal(this.c, ev.socket);
      if (isKeepAlive(ev)) this.items.push({ kind: 'keepalive', ...timing, ordinal, text: (ev.data as { text: string }).text });
      else this.items.push({ kind: 'raw', ...timing, ordinal, data: ev.data });
    } else if (ev.type === 'ws.close' && ev.by === 'server') {
      // Client closes happen live; 'proxy' was the recorder shutting down.
      this.items.push({ kind: 'close', ...timing, ordinal: socketOrdinal(this.c, ev.socket), code: ev.code, reason: ev.reason });
    }
  }

  /** Every stored activity gets a watermark a client can hand back; synthetic ones only where the recording had none. */
  private syntheticWatermarks(): void {
    for (const entry of this.log) {
      if (entry.typing || entry.watermark !== undefined) continue;
      let wm = `vcr-${entry.index}`;
      while (this.watermarkIndex.has(wm)) wm += '_';
      entry.watermark = wm;
      this.watermarkIndex.set(wm, entry.index);
    }
  }
}

/** The recorded requests by route (polls aside: they are served from the log), typing posts apart, echo ids. */
function recordedRequests(
  c: ConversationView,
): Pick<ConversationModel, 'firstRoute' | 'requests' | 'typingPosts' | 'echoOf' | 'pollHeaders'> {
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
  return { firstRoute, requests, typingPosts, echoOf, pollHeaders };
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
