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

export function bearerOf(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  return (auth ? /^\s*Bearer\s+(\S+)\s*$/i.exec(auth) : null)?.[1];
}
