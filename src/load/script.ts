// What a load client does in one recorded conversation, from the cassette's read model: the messages the
// user posted, in order, and the bot's message texts each one brought (the ones before any post: the
// welcome). A client replaying it posts message k once every reply of message k−1 has arrived.
import type { Cassette } from '../cassette/schema.js';
import { readModel } from '../model/index.js';
import { Route } from '../protocol/routes.js';

export interface Turn {
  /** The user's text; null for the opening turn (what the bot says before the first post). */
  say: string | null;
  /** Bot message texts that follow it, in order. */
  replies: string[];
}

export interface ConversationScript {
  /** The recorded conversation id (live ids begin with it). */
  recordedId: string;
  /** Whether the recorded client got its token from tokens/generate before starting. */
  generatesToken: boolean;
  turns: Turn[];
}

/** One script per recorded conversation a load client can play (needs an id; uploads are not played). */
export function conversationScripts(cassette: Cassette, file = '<cassette>'): ConversationScript[] {
  const scripts: ConversationScript[] = [];
  for (const c of readModel(cassette).conversations) {
    if (c.id === null) continue;
    if (c.exchanges.some((x) => x.route === Route.upload)) {
      throw new Error(`${file}: conversation ${c.id} uploads files; the load runner posts text messages only`);
    }
    const turns: Turn[] = [{ say: null, replies: [] }];
    const turnOfPost = new Map<number, Turn>();
    for (const x of c.exchanges) {
      if (x.route !== Route.activitiesPost || !x.posted || x.typing) continue;
      const turn: Turn = { say: typeof x.posted.text === 'string' ? x.posted.text : '', replies: [] };
      turns.push(turn);
      turnOfPost.set(x.index, turn);
    }
    for (const a of c.log) {
      if (a.role !== 'bot' || a.typing || a.activity.type !== 'message' || typeof a.activity.text !== 'string') continue;
      const turn = a.cause.kind === 'request' ? turnOfPost.get(a.cause.index) : turns[0];
      (turn ?? turns[turns.length - 1]).replies.push(a.activity.text);
    }
    scripts.push({ recordedId: c.id, generatesToken: c.firstRoute === Route.tokensGenerate, turns });
  }
  if (scripts.length === 0) throw new Error(`${file}: no recorded conversation with an id to play`);
  return scripts;
}

/** The script of the recorded conversation a live conversation id was minted from (`<recorded>_<n>`, `<recorded>.<instance>_<n>`). */
export function scriptOf(scripts: ConversationScript[], liveId: string): ConversationScript | undefined {
  let best: ConversationScript | undefined;
  for (const s of scripts) {
    const next = liveId.charAt(s.recordedId.length);
    if (liveId.startsWith(s.recordedId) && (next === '_' || next === '.') && (!best || s.recordedId.length > best.recordedId.length))
      best = s;
  }
  return best;
}
