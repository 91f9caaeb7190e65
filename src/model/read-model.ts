// The one meaning of a cassette, built once per cassette and shared by every reader (replay, inspect,
// export, the demo page, scan, diff, the web inspector). Like a mitmproxy flow, a stream socket lives
// inside its conversation with its frames, so no reader joins sockets to requests again.
//
// One rule decides which conversation an event belongs to (the first that applies):
//   1. the id the recorder stamped on the event;
//   2. for stream frames and closes: their socket's conversation (from its ws.open);
//   3. the conversation id in the request path (a stream URL, /conversations/{id}/…);
//   4. for HTTP: the `conversationId` of the response body (tokens.generate names the one it fixes).
// An HTTP exchange tied to no conversation stands alone (e.g. a refused tokens.generate), and so do the
// events of a socket tied to none. Conversations are listed in order of their first event.
//
// Causes: every bot activity is tied to the client action it followed (the last conversations.start,
// non-typing activities.post or upload before it; before any, the first stream open or poll ('attach');
// before that, the start of the conversation ('session')). An echo never precedes the post it echoes.
import type { Cassette, CassetteEvent, HttpEvent, WsCloseEvent, WsMessageEvent, WsOpenEvent } from '../cassette/schema.js';
import { placeholderKind, type PlaceholderKind } from '../cassette/placeholders.js';
import { conversationOfPath, normaliseBasePath, Route, routePolicy, type RouteName, type RoutePolicy } from '../protocol/routes.js';
import type { Activity, ActivitySet } from '../protocol/types.js';
import { bodyJson, conversationIdInBody, deliveredSet, echoIdOf, nonEmptyString, postedActivity, userIdOfStartBody } from './values.js';

/** An event and its position in cassette.events (its identity: events carry no id of their own). */
export interface Indexed<E extends CassetteEvent = CassetteEvent> {
  index: number;
  event: E;
}

/** The client action a recorded item followed; its recorded time is `t`. */
export type Cause =
  | { kind: 'session'; t: number }
  | { kind: 'attach'; t: number; index: number }
  | { kind: 'request'; t: number; index: number };

/** One conversation event, with the cause in effect when it happened (before it, for a cause itself). */
export interface ConversationEvent<E extends CassetteEvent = CassetteEvent> extends Indexed<E> {
  cause: Cause;
}

export interface SocketView {
  /** The socket number in the cassette. */
  socket: number;
  /** 1 for the conversation's first socket, in order of their handshakes; sockets without one come last. */
  ordinal: number;
  open: Indexed<WsOpenEvent> | null;
  /** Every frame, both directions, keep-alives included. */
  frames: ConversationEvent<WsMessageEvent>[];
  close: ConversationEvent<WsCloseEvent> | null;
}

export interface ExchangeView extends ConversationEvent<HttpEvent> {
  route: RouteName;
  policy: RoutePolicy;
  /** The activity an activities.post carried (the JSON body), else null. */
  posted: Activity | null;
  /** A posted `typing`: clients send these at their own pace, so they cause nothing. */
  typing: boolean;
  /** The id the service gave a send (its echo comes back with it), else null. */
  echoId: string | null;
  /** The ActivitySet in the response (a poll), else null. */
  delivered: ActivitySet | null;
}

/** An event that brought activities to the client: a server stream frame or a successful poll. */
export interface DeliveryView extends ConversationEvent {
  via: 'frame' | 'poll';
  socket: SocketView | null;
  /** The ActivitySet as recorded (every activity, repeats too). */
  set: ActivitySet;
  /** The activities this delivery brought for the first time, in order. */
  fresh: ActivityView[];
}

/** A distinct activity of a conversation, at its first delivery. */
export interface ActivityView {
  /** Position in the conversation's activity log. */
  position: number;
  activity: Activity;
  id: string | undefined;
  /** Typing is delivered on the stream only, never by a poll (docs/protocol.md#typing). */
  typing: boolean;
  delivery: DeliveryView;
  /** The client action this activity followed (an echo: its own post). */
  cause: Cause;
  /** For the echo of a client's send: that send. */
  echoOf: ExchangeView | null;
  role: Role;
}

export type Role = 'user' | 'bot' | (string & {});

export interface ConversationView {
  /** Position among the cassette's conversations (in order of their first event). */
  ordinal: number;
  /** The recorded id; null for an exchange or socket never tied to a conversation. */
  id: string | null;
  /** Every event of the conversation in time order (stable for equal times). */
  events: ConversationEvent[];
  exchanges: ExchangeView[];
  sockets: SocketView[];
  deliveries: DeliveryView[];
  /** Distinct activities in order of first delivery. */
  log: ActivityView[];
  /** Route of the first HTTP exchange ('unknown' when there is none). */
  firstRoute: RouteName;
  /** The recorded user id: start/generate body `user.id`, else the first posted `from.id`, else an upload's `userId`. */
  userId: string | undefined;
}

export class CassetteModel {
  readonly basePath: string;
  readonly conversations: ConversationView[];
  private readonly byEvent: Array<ConversationView | null>;
  private readonly exchangeByEvent = new Map<number, ExchangeView>();
  private readonly sentIds = new Set<string>();
  private readonly userIds = new Set<string>();

  constructor(readonly cassette: Cassette) {
    this.basePath = normaliseBasePath(cassette.upstream.basePath);
    const groups = groupEvents(cassette.events, this.basePath);
    this.byEvent = new Array<ConversationView | null>(cassette.events.length).fill(null);
    this.conversations = groups.map((g, ordinal) => this.buildConversation(ordinal, g.id, g.events));
    for (const c of this.conversations) {
      for (const e of c.events) this.byEvent[e.index] = c;
      for (const x of c.exchanges) {
        this.exchangeByEvent.set(x.index, x);
        if (x.echoId) this.sentIds.add(x.echoId);
        const from = nonEmptyString(x.posted?.from?.id);
        if (from) this.userIds.add(from);
      }
    }
    // Roles need every send of the cassette, so they are settled last.
    for (const c of this.conversations) for (const a of c.log) a.role = this.roleOf(a.activity);
  }

  /** The conversation an event (by its index in cassette.events) belongs to. */
  conversationOf(index: number): ConversationView | null {
    return this.byEvent[index] ?? null;
  }

  /** The exchange view of an HTTP event, by its index in cassette.events. */
  exchange(index: number): ExchangeView | undefined {
    return this.exchangeByEvent.get(index);
  }

  /** What a placeholder stands for, from the cassette's own table (or its name). */
  placeholderKind(placeholder: string): PlaceholderKind | undefined {
    return placeholderKind(placeholder, this.cassette.redaction.placeholders);
  }

  /**
   * 'user' when the activity is one the client posted (its id came back from a send, or it is from a user
   * id the client posted as), the recorded `from.role` when there is one, else 'bot'.
   */
  roleOf(a: Activity): Role {
    const recorded = nonEmptyString(a.from?.role);
    if (recorded) return recorded;
    if (typeof a.id === 'string' && this.sentIds.has(a.id)) return 'user';
    const from = nonEmptyString(a.from?.id);
    if (from && this.userIds.has(from)) return 'user';
    return 'bot';
  }

  private buildConversation(ordinal: number, id: string | null, unsorted: Indexed[]): ConversationView {
    // Cassettes are in time order already; a stable sort by t guards against hand-made ones.
    const sorted = [...unsorted].sort((a, b) => a.event.t - b.event.t || a.index - b.index);
    const c: ConversationView = {
      ordinal,
      id,
      events: [],
      exchanges: [],
      sockets: [],
      deliveries: [],
      log: [],
      firstRoute: Route.unknown,
      userId: undefined,
    };
    const sockets = socketsOf(sorted);
    c.sockets = [...sockets.values()].sort((a, b) => a.ordinal - b.ordinal);
    // Sends first: a poll that started before a POST may return its echo, and must know it is one.
    const exchanges = new Map<number, ExchangeView>();
    const echoPosts = new Map<string, ExchangeView>();
    for (const e of sorted) {
      if (e.event.type !== 'http') continue;
      const x = exchangeView({ index: e.index, event: e.event, cause: { kind: 'session', t: 0 } });
      exchanges.set(e.index, x);
      if (x.echoId) echoPosts.set(x.echoId, x);
    }
    const seen = new Set<string>();
    let cause: Cause = { kind: 'session', t: sorted.length ? sorted[0].event.t : 0 };
    let attached = false;
    const attach = (here: ConversationEvent) => {
      if (attached) return;
      attached = true;
      cause = { kind: 'attach', t: here.event.t, index: here.index };
      here.cause = cause;
    };

    for (const { index, event } of sorted) {
      const x = exchanges.get(index);
      if (x) {
        x.cause = cause;
        c.exchanges.push(x);
        c.events.push(x);
        if (c.firstRoute === Route.unknown && x.policy.replay !== 'byPath') c.firstRoute = x.route;
        c.userId ??= userOf(x);
        if (x.policy.cause && !x.typing) cause = { kind: 'request', t: event.t, index };
        if (x.policy.replay === 'activityLog') {
          attach(x);
          if (x.event.response?.status === 200 && x.delivered) this.deliver(c, x, 'poll', null, x.delivered, seen, echoPosts);
        }
        continue;
      }
      const here: ConversationEvent = { index, event, cause };
      c.events.push(here);
      if (event.type === 'ws.open') {
        attach(here);
        continue;
      }
      if (event.type === 'http') continue;
      const socket = sockets.get(event.socket)!;
      if (event.type === 'ws.close') {
        socket.close = here as ConversationEvent<WsCloseEvent>;
        continue;
      }
      socket.frames.push(here as ConversationEvent<WsMessageEvent>);
      const set = deliveredSet(event);
      if (set) this.deliver(c, here, 'frame', socket, set, seen, echoPosts);
    }
    return c;
  }

  private deliver(
    c: ConversationView,
    at: ConversationEvent,
    via: DeliveryView['via'],
    socket: SocketView | null,
    set: ActivitySet,
    seen: Set<string>,
    echoPosts: Map<string, ExchangeView>,
  ): void {
    const d: DeliveryView = { ...at, via, socket, set, fresh: [] };
    for (const activity of set.activities) {
      if (!activity || typeof activity !== 'object') continue;
      const id = typeof activity.id === 'string' ? activity.id : undefined;
      if (id !== undefined) {
        if (seen.has(id)) continue;
        seen.add(id);
      }
      const post = id !== undefined ? echoPosts.get(id) : undefined;
      // An echo never precedes the post it echoes, even when a poll that started earlier returned it.
      const cause: Cause = post && post.event.t >= at.cause.t ? { kind: 'request', t: post.event.t, index: post.index } : at.cause;
      const view: ActivityView = {
        position: c.log.length,
        activity,
        id,
        typing: activity.type === 'typing',
        delivery: d,
        cause,
        echoOf: post ?? null,
        role: 'bot',
      };
      c.log.push(view);
      d.fresh.push(view);
    }
    c.deliveries.push(d);
  }
}

const models = new WeakMap<Cassette, CassetteModel>();

/** The read model of a cassette, built on first use and cached for the cassette object. */
export function readModel(cassette: Cassette): CassetteModel {
  let model = models.get(cassette);
  if (!model) {
    model = new CassetteModel(cassette);
    models.set(cassette, model);
  }
  return model;
}

// ---- building blocks ---------------------------------------------------------------------------------

/** Splits events into conversations by the rule at the top of this file. */
function groupEvents(events: CassetteEvent[], basePath: string): Array<{ id: string | null; events: Indexed[] }> {
  const socketConversation = new Map<number, string | null>();
  for (const e of events) {
    if (e.type === 'ws.open' && !socketConversation.has(e.socket)) {
      socketConversation.set(e.socket, e.conversationId ?? conversationOfPath(e.path, basePath));
    }
  }
  const groups: Array<{ id: string | null; events: Indexed[] }> = [];
  const byId = new Map<string, Indexed[]>();
  const bySocketWithout = new Map<number, Indexed[]>();
  events.forEach((event, index) => {
    const id = conversationOfEvent(event, basePath, socketConversation);
    if (id !== null) {
      let list = byId.get(id);
      if (!list) {
        list = [];
        byId.set(id, list);
        groups.push({ id, events: list });
      }
      list.push({ index, event });
    } else if (event.type === 'http') {
      groups.push({ id: null, events: [{ index, event }] });
    } else {
      let list = bySocketWithout.get(event.socket);
      if (!list) {
        list = [];
        bySocketWithout.set(event.socket, list);
        groups.push({ id: null, events: list });
      }
      list.push({ index, event });
    }
  });
  return groups;
}

function conversationOfEvent(e: CassetteEvent, basePath: string, socketConversation: Map<number, string | null>): string | null {
  if (e.conversationId) return e.conversationId;
  if (e.type === 'ws.message' || e.type === 'ws.close') return socketConversation.get(e.socket) ?? null;
  if (e.type === 'ws.open') return conversationOfPath(e.path, basePath);
  return conversationOfPath(e.request.path, basePath, e.request.method) ?? (e.response ? conversationIdInBody(e.response.body) : null);
}

/** The conversation's sockets with their ordinals: handshakes first, in order; sockets seen only by frames after. */
function socketsOf(sorted: Indexed[]): Map<number, SocketView> {
  const sockets = new Map<number, SocketView>();
  for (const { index, event } of sorted) {
    if (event.type === 'ws.open' && !sockets.has(event.socket)) {
      sockets.set(event.socket, { socket: event.socket, ordinal: sockets.size + 1, open: { index, event }, frames: [], close: null });
    }
  }
  for (const { event } of sorted) {
    if ((event.type === 'ws.message' || event.type === 'ws.close') && !sockets.has(event.socket)) {
      sockets.set(event.socket, { socket: event.socket, ordinal: sockets.size + 1, open: null, frames: [], close: null });
    }
  }
  return sockets;
}

function exchangeView(at: ConversationEvent<HttpEvent>): ExchangeView {
  const e = at.event;
  const posted = postedActivity(e);
  return {
    ...at,
    route: e.route,
    policy: routePolicy(e.route),
    posted,
    typing: posted?.type === 'typing',
    echoId: echoIdOf(e),
    delivered: deliveredSet(e),
  };
}

function userOf(x: ExchangeView): string | undefined {
  if (x.policy.opensSession === 'new') return userIdOfStartBody(bodyJson(x.event.request.body));
  if (x.posted) return nonEmptyString(x.posted.from?.id);
  if (x.route === Route.upload) return nonEmptyString(x.event.request.query.userId);
  return undefined;
}
