// A cassette read as conversations of turns, from the cassette's read model (src/model/): a turn is an
// activity the user sent (a post or an upload) and the bot activities it caused; turn 0 is the start of
// the conversation (the welcome). A bot activity belongs to the turn whose echo id its `replyToId`
// names, else to the client action it followed (the read model's cause).
import type { Cassette } from '../cassette/schema.js';
import { readModel, bodyJson, type ConversationView, type ExchangeView } from '../model/index.js';
import { Route } from '../protocol/routes.js';
import type { ActivityNormaliser, Volatile } from './normalise.js';
import type { CassetteTurns, ConversationTurns, Turn } from './types.js';

/** The run-specific values of a cassette that a comparison must not see (its conversation ids, its upstream). */
export function volatileOf(cassette: Cassette): Volatile {
  return {
    conversationIds: readModel(cassette).conversations.flatMap((c) => (c.id ? [c.id] : [])),
    upstreamOrigin: cassette.upstream.origin,
  };
}

export function cassetteTurns(cassette: Cassette, normaliser: ActivityNormaliser, source?: string): CassetteTurns {
  const model = readModel(cassette);
  const conversations = model.conversations.map((c) => conversationTurns(c, normaliser));
  return source === undefined ? { conversations } : { source, conversations };
}

function conversationTurns(c: ConversationView, normaliser: ActivityNormaliser): ConversationTurns {
  const start: Turn = { index: 0, cause: 'start', user: null, status: null, replies: [], firstReplyMs: null };
  const turns: Turn[] = [start];
  let startT: number | null = null;
  const turnOfExchange = new Map<number, Turn>();
  const turnOfEcho = new Map<string, Turn>();
  const requestT = new Map<Turn, number>();
  const exchanges: Record<string, Set<number>> = {};
  const note = (route: string, status: number | null) => {
    (exchanges[route] ??= new Set()).add(status ?? 0);
  };

  for (const x of c.exchanges) {
    const status = x.event.response ? x.event.response.status : null;
    if (x.route === Route.conversationsStart) {
      // A second start of the same conversation (200) is part of turn 0.
      if (startT === null) {
        startT = x.event.t;
        start.status = status;
        setError(start, x);
      }
      turnOfExchange.set(x.index, start);
      continue;
    }
    if (x.policy.cause && x.policy.send && !x.typing) {
      const turn: Turn = {
        index: turns.length,
        cause: x.route === Route.upload ? 'upload' : 'post',
        user: null,
        status,
        replies: [],
        firstReplyMs: null,
      };
      if (x.posted) turn.user = normaliser.userView(x.posted);
      setError(turn, x);
      turns.push(turn);
      turnOfExchange.set(x.index, turn);
      requestT.set(turn, x.event.t);
      if (x.echoId) turnOfEcho.set(x.echoId, turn);
      continue;
    }
    if (x.typing || x.route === Route.attachment) continue;
    note(x.route, status);
  }
  for (const s of c.sockets) if (s.open) note(Route.stream, s.open.event.status);

  for (const a of c.log) {
    if (a.echoOf) {
      // The echo of an upload tells what was sent (the files' names and types); a post's body already did.
      const turn = turnOfExchange.get(a.echoOf.index);
      if (turn && turn.cause === 'upload' && !turn.user) turn.user = normaliser.userView(a.activity);
      continue;
    }
    if (a.role === 'user') continue;
    const replyTo = typeof a.activity.replyToId === 'string' ? turnOfEcho.get(a.activity.replyToId) : undefined;
    const turn = replyTo ?? (a.cause.kind === 'request' ? turnOfExchange.get(a.cause.index) : undefined) ?? start;
    if (turn.firstReplyMs === null) {
      const from = turn === start ? (startT ?? a.cause.t) : requestT.get(turn)!;
      turn.firstReplyMs = Math.max(0, a.delivery.event.t - from);
    }
    turn.replies.push(normaliser.view(a.activity));
  }
  for (const t of turns) if (t.cause === 'upload' && !t.user) t.user = { type: 'message' };

  const polled = c.exchanges.some((x) => x.route === Route.activitiesGet);
  const streamed = c.sockets.length > 0;
  // A conversation that never started (a lone refused token request) has no start turn.
  const hasStart = startT !== null || start.replies.length > 0;
  return {
    ordinal: c.ordinal,
    delivery: polled && streamed ? 'both' : streamed ? 'stream' : polled ? 'polling' : 'none',
    exchanges: Object.fromEntries(Object.entries(exchanges).map(([route, set]) => [route, [...set].sort((x, y) => x - y)])),
    turns: hasStart ? turns : turns.slice(1).map((t, i) => ({ ...t, index: i + 1 })),
  };
}

/** The Direct Line error code of a failed request (`{"error":{"code":"BotError"}}`). */
function setError(turn: Turn, x: ExchangeView): void {
  const res = x.event.response;
  if (!res || res.status < 400) return;
  const code = (bodyJson(res.body) as { error?: { code?: unknown } } | undefined)?.error?.code;
  if (typeof code === 'string') turn.errorCode = code;
}
