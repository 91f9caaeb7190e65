// The cassette as the replayer indexes it once at load time: one model per recorded conversation, and
// which recorded conversation the next new session gets.
import type { Cassette } from '../cassette/schema.js';
import { readModel } from '../model/index.js';
import { normaliseBasePath, Route, type RouteName } from '../protocol/routes.js';
import { buildConversationModels, type ConversationModel } from './conversation-model.js';

export class Catalog {
  readonly basePath: string;
  readonly models: ConversationModel[];
  private readonly byFirstRoute = new Map<RouteName, ConversationModel[]>();
  private readonly served = new Map<RouteName, number>();
  /** Conversations recorded as tokens.generate → conversations.start (for clients that bring their own token). */
  private readonly generateThenStart: ConversationModel[] = [];
  private servedWithoutGenerate = 0;

  constructor(readonly cassette: Cassette) {
    this.basePath = normaliseBasePath(cassette.upstream.basePath);
    this.models = buildConversationModels(readModel(cassette));
    for (const m of this.models) {
      const list = this.byFirstRoute.get(m.firstRoute);
      if (list) list.push(m);
      else this.byFirstRoute.set(m.firstRoute, [m]);
      if (m.firstRoute === Route.tokensGenerate && m.requests.has(Route.conversationsStart)) this.generateThenStart.push(m);
    }
  }

  /**
   * The recorded conversation for the next new session that begins with `route`: the n-th such session gets
   * the n-th recorded conversation whose first request has that route, cycling when they run out.
   */
  next(route: RouteName): ConversationModel | undefined {
    const list = this.byFirstRoute.get(route);
    if (!list || list.length === 0) return undefined;
    const n = this.served.get(route) ?? 0;
    this.served.set(route, n + 1);
    return list[n % list.length];
  }

  /**
   * For a conversations.start with a bearer this replay never issued when no recorded conversation begins with
   * conversations.start: the next conversation recorded as tokens.generate → conversations.start (cycling).
   * Its tokens.generate is skipped: the client got its token elsewhere (e.g. `new DirectLine({ token: 'any' })`).
   */
  nextSkippingGenerate(): ConversationModel | undefined {
    const list = this.generateThenStart;
    if (list.length === 0) return undefined;
    return list[this.servedWithoutGenerate++ % list.length];
  }

  /**
   * The recorded conversation a client resumes by id (its first request here names a conversation this server
   * never started): the one recorded with that id, else the only one when the cassette holds a single one.
   */
  resumable(conversationId: string): ConversationModel | undefined {
    const named = this.models.filter((m) => m.recordedId !== null);
    return named.find((m) => m.recordedId === conversationId) ?? (named.length === 1 ? named[0] : undefined);
  }

  /** How many recorded conversations have a recorded id (what a resume can pick from). */
  get conversationCount(): number {
    return this.models.filter((m) => m.recordedId !== null).length;
  }

  /** Whether any recorded conversation has a request of this route. */
  records(route: RouteName): boolean {
    return this.models.some((m) => m.requests.has(route));
  }

  /** Whether some recorded conversation begins with `route`. */
  starts(route: RouteName): boolean {
    return (this.byFirstRoute.get(route)?.length ?? 0) > 0;
  }
}
