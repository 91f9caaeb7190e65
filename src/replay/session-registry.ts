// The live sessions of a replay server and how a request finds its own: by the conversation id in its
// path, or by the bearer token this server (or a resuming client) made known for it.
import type { IncomingMessage } from 'node:http';
import type { Session } from './session.js';
import type { StreamHub } from './stream.js';

export class SessionRegistry {
  private readonly sessions: Session[] = [];
  private readonly byLiveId = new Map<string, Session>();
  private readonly byToken = new Map<string, Session>();
  private readonly hubs = new Map<Session, StreamHub>();
  /** Recorded conversation ids sessions replay (few: the cassette's), for finding live ids in a path. */
  private readonly recordedIds = new Set<string>();
  /** Sessions whose live id is not minted from their recorded one (resumed under the client's own id). */
  private readonly foreign: Session[] = [];

  get count(): number {
    return this.sessions.length;
  }

  /** Every session, in the order they started. */
  all(): readonly Session[] {
    return this.sessions;
  }

  add(session: Session, hub: StreamHub): void {
    this.sessions.push(session);
    if (session.liveId !== null) this.byLiveId.set(session.liveId, session);
    this.hubs.set(session, hub);
    const recorded = session.model.recordedId;
    if (recorded !== null) this.recordedIds.add(recorded);
    const live = session.liveId;
    if (live !== null && (recorded === null || !live.startsWith(recorded) || !MINTED.test(live.slice(recorded.length)))) {
      this.foreign.push(session);
    }
  }

  /**
   * The sessions whose live conversation id occurs in `path` (as is or URI-encoded): the ones an attachment URL
   * may belong to. Found from the recorded ids (a live id is `<recorded>_<n>` or `<recorded>.<instance>_<n>`), so
   * the cost does not grow with the number of sessions; sessions resumed under a client's own id are checked one by one.
   */
  inPath(path: string): Session[] {
    const out = new Set<Session>();
    for (const recorded of this.recordedIds) {
      for (const form of new Set([recorded, encodeURIComponent(recorded)])) {
        for (let at = path.indexOf(form); at >= 0; at = path.indexOf(form, at + 1)) {
          const suffix = MINTED_PREFIX.exec(path.slice(at + form.length))?.[0];
          const session = suffix === undefined ? undefined : this.byLiveId.get(recorded + suffix);
          if (session) out.add(session);
        }
      }
    }
    for (const s of this.foreign) {
      const live = s.liveId!;
      if (path.includes(live) || path.includes(encodeURIComponent(live))) out.add(s);
    }
    return [...out];
  }

  hubOf(session: Session): StreamHub | undefined {
    return this.hubs.get(session);
  }

  allHubs(): Iterable<StreamHub> {
    return this.hubs.values();
  }

  ofConversation(liveId: string): Session | undefined {
    return this.byLiveId.get(liveId);
  }

  /** Makes a token find its session (one this server minted, or the credential a resuming client brought). */
  registerToken(token: string, session: Session): void {
    this.byToken.set(token, session);
  }

  ofBearer(req: IncomingMessage): Session | undefined {
    const bearer = bearerOf(req);
    return bearer ? this.byToken.get(bearer) : undefined;
  }
}

/** What follows the recorded id in a minted live id (instance ids are letters, digits and hyphens: never encoded). */
const MINTED = /^(?:\.[A-Za-z0-9-]+)?_\d+$/;
const MINTED_PREFIX = /^(?:\.[A-Za-z0-9-]+)?_\d+/;

export function bearerOf(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  return (auth ? /^\s*Bearer\s+(\S+)\s*$/i.exec(auth) : null)?.[1];
}
