// What `verify` re-drives of a recorded conversation: the user side only, in recorded order — token and
// start requests, stream opens and client closes, the start of polling, the activities the user sent
// (posts and uploads) — each tied to the turn it opens, so the driver can wait for the bot in between.
// Bot frames, keep-alives, pings, polls and typing posts are not steps: the live bot answers on its own.
import type { Body, Cassette } from '../cassette/schema.js';
import { readModel, type ConversationView } from '../model/index.js';
import { Route, stripBase, type RouteName } from '../protocol/routes.js';

export interface HttpStep {
  kind: 'http';
  route: RouteName;
  method: string;
  /** Path below the base path, recorded conversation id still in it. */
  subPath: string;
  query: Record<string, string>;
  /** Authorization as recorded (a placeholder such as `Bearer DLVCR_SECRET_1`), if any. */
  authorization?: string;
  /** The headers that shape the body (content-type with its multipart boundary, content-disposition). */
  headers: Record<string, string>;
  body: Body;
  /** The recorded response body, to learn which live value stands for which placeholder. */
  recordedResponse: Body;
  /** For a post or upload: the turn it opens (1, 2, …). */
  turn?: number;
}

export interface OpenStep {
  kind: 'open';
  /** The recorded stream token placeholder (`t=`), to find the live streamUrl that replaced it. */
  streamToken?: string;
  socket: number;
}

export interface CloseStep {
  kind: 'close';
  socket: number;
  code: number;
  reason: string;
}

/** The recording polled from here on. */
export interface PollStep {
  kind: 'poll';
}

export type Step = HttpStep | OpenStep | CloseStep | PollStep;

export interface ConversationPlan {
  ordinal: number;
  recordedId: string | null;
  steps: Step[];
}

/** Headers a re-sent request keeps: they say what the body is. */
const BODY_HEADERS = ['content-type', 'content-disposition'];

/** The plans of every conversation that has something to re-drive (a start or a send). */
export function planConversations(cassette: Cassette): ConversationPlan[] {
  const model = readModel(cassette);
  return model.conversations
    .map((c) => planOf(c, model.basePath))
    .filter((p) => p.steps.some((s) => s.kind === 'http' && (s.route === Route.conversationsStart || s.turn !== undefined)));
}

function planOf(c: ConversationView, basePath: string): ConversationPlan {
  const steps: Step[] = [];
  let turn = 0;
  let polling = false;
  for (const e of c.events) {
    const ev = e.event;
    if (ev.type === 'http') {
      const x = c.exchanges.find((v) => v.index === e.index)!;
      if (x.route === Route.activitiesGet) {
        if (!polling) steps.push({ kind: 'poll' });
        polling = true;
        continue;
      }
      if (x.typing || x.route === Route.attachment || x.route === Route.unknown || x.route === Route.stream) continue;
      const sub = stripBase(ev.request.path, basePath);
      if (sub === null) continue;
      const headers: Record<string, string> = {};
      for (const h of BODY_HEADERS) if (ev.request.headers[h] !== undefined) headers[h] = ev.request.headers[h];
      const step: HttpStep = {
        kind: 'http',
        route: x.route,
        method: ev.request.method,
        subPath: sub,
        query: { ...ev.request.query },
        headers,
        body: ev.request.body,
        recordedResponse: ev.response ? ev.response.body : null,
      };
      if (ev.request.headers.authorization !== undefined) step.authorization = ev.request.headers.authorization;
      if (x.policy.send) step.turn = ++turn;
      steps.push(step);
    } else if (ev.type === 'ws.open') {
      steps.push({ kind: 'open', socket: ev.socket, ...(ev.query.t !== undefined ? { streamToken: ev.query.t } : {}) });
    } else if (ev.type === 'ws.close' && ev.by === 'client') {
      steps.push({ kind: 'close', socket: ev.socket, code: ev.code, reason: ev.reason });
    }
  }
  return { ordinal: c.ordinal, recordedId: c.id, steps };
}
