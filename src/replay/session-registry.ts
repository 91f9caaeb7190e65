// The live sessions of a replay server and how a request finds its own: by the conversation id in its
// path, or by the bearer token this server (or a resuming client) made known for it. A session nobody has
// used for a while (no stream open, no request) is let go (evictIdle), so that a replay serving a long load
// test does not keep every conversation it ever started; a client that comes back later resumes (server.ts).
import type { IncomingMessage } from 'node:http';
import type { Session } from './session.js';
import type { StreamHub } from './stream.js';

export class SessionRegistry {
  private sessions: Session[] = [];
  private readonly byLiveId = new Map<string, Session>();
  private readonly byToken = new Map<string, Session>();
  private readonly hubs = new Map<Session, StreamHub>();
  /** Recorded conversation ids sessions replay (few: the cassette's), for finding live ids in a path. */
  private readonly recordedIds = new Set<string>();
  /** Sessions whose live id is not minted from their recorded one (resumed under the client's own id). */
  private foreign: Session[] = [];
  private readonly tokensOf = new Map<Session, string[]>();
  /** When each session was last used (performance.now()): a request, a stream opened or closed. */
  private readonly seen = new Map<Session, number>();
  private started = 0;

  /** Sessions started so far, let go or not (session numbers count on from it). */
  get count(): number {
    return this.started;
  }

  /** Sessions held now. */
  get live(): number {
    return this.sessions.length;
  }

  /** Every session, in the order they started. */
  all(): readonly Session[] {
    return this.sessions;
  }

  add(session: Session, hub: StreamHub): void {
    this.started++;
    this.seen.set(session, performance.now());
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
    const tokens = this.tokensOf.get(session);
    if (tokens) tokens.push(token);
    else this.tokensOf.set(session, [token]);
  }

  /** The session is in use now (a request for it, a stream of it opened or closed). */
  touch(session: Session): void {
    this.seen.set(session, performance.now());
  }

  /**
   * Lets go of the sessions with no stream open and no use for `idleMs`: they are closed (timers stopped) and
   * their conversation id and tokens are forgotten. Returns them.
   */
  evictIdle(idleMs: number): Session[] {
    const cutoff = performance.now() - idleMs;
    const gone = this.sessions.filter((s) => (this.seen.get(s) ?? 0) < cutoff && !this.hubs.get(s)?.openSockets);
    if (gone.length === 0) return gone;
    const out = new Set(gone);
    for (const s of gone) {
      s.close();
      if (s.liveId !== null && this.byLiveId.get(s.liveId) === s) this.byLiveId.delete(s.liveId);
      for (const t of this.tokensOf.get(s) ?? []) if (this.byToken.get(t) === s) this.byToken.delete(t);
      this.tokensOf.delete(s);
      this.seen.delete(s);
      this.hubs.delete(s);
    }
    this.sessions = this.sessions.filter((s) => !out.has(s));
    this.foreign = this.foreign.filter((s) => !out.has(s));
    return gone;
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
