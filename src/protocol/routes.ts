// The Direct Line 3.0 route table: every operation the tool knows, how a request is recognised, and how
// record, replay and the readers of a cassette treat it (docs/protocol.md#routes). Route names are
// written as literals here and nowhere else in src/: code asks the policy (`routePolicy(r).send`) or uses
// the `Route` constants, so adding a route is one row and the compiler finds every switch that must learn it.
// Paths are relative to the deployment's base path (e.g. /v3/directline), which varies between hosts.

/** How the replay server answers a live request of this route. */
export type ReplayAnswer =
  /** Matched to the next unused recorded request of the route, which must have the same shape. */
  | 'recorded'
  /** The next recorded request when one is left, else a synthesized 200 (timed background calls). */
  | 'recordedOrSynthesized'
  /** Served from the session's activity log (never matched one by one). */
  | 'activityLog'
  /** A WebSocket upgrade, answered by the stream hub. */
  | 'upgrade'
  /** Served by path to any session (attachment bytes the upstream handed out). */
  | 'byPath'
  /** Not part of the protocol: answered with a mismatch. */
  | 'none';

/** What the request body carries that replay matching compares. */
export type MatchedShape = 'activity' | 'filesAndActivity' | 'nothing';

export interface RoutePolicy {
  /** HTTP method, and the path below the base path (`{id}` = a conversation id); null = not matched by path. */
  method: 'GET' | 'POST' | null;
  path: string | null;
  /** A short description for people (inspect, errors). */
  label: string;
  /** The client acted: bot activities recorded after it are caused by it (replay waits from its live twin). */
  cause: boolean;
  /** A send: the response `{id}` names the activity the client posted, which comes back as its echo. */
  send: boolean;
  /** A live session may begin with this request: 'new' starts a conversation, 'resume' continues a known one. */
  opensSession: 'new' | 'resume' | null;
  /** The response body may carry a streamUrl the recorder rewrites (and replay points at itself). */
  carriesStreamUrl: boolean;
  /** The response body may carry attachment URLs on the upstream (contentUrl, thumbnailUrl). */
  carriesAttachmentUrls: boolean;
  replay: ReplayAnswer;
  match: MatchedShape;
}

const row = (p: Partial<RoutePolicy> & Pick<RoutePolicy, 'method' | 'path' | 'label' | 'replay'>): RoutePolicy => ({
  cause: false,
  send: false,
  opensSession: null,
  carriesStreamUrl: false,
  carriesAttachmentUrls: false,
  match: 'nothing',
  ...p,
});

export const ROUTES = {
  'tokens.generate': row({ method: 'POST', path: '/tokens/generate', label: 'generate a token', replay: 'recorded', opensSession: 'new' }),
  'tokens.refresh': row({ method: 'POST', path: '/tokens/refresh', label: 'refresh a token', replay: 'recordedOrSynthesized' }),
  'conversations.start': row({
    method: 'POST',
    path: '/conversations',
    label: 'start a conversation',
    replay: 'recorded',
    opensSession: 'new',
    cause: true,
    carriesStreamUrl: true,
  }),
  'conversations.reconnect': row({
    method: 'GET',
    path: '/conversations/{id}',
    label: 'reconnect to a conversation',
    replay: 'recordedOrSynthesized',
    opensSession: 'resume',
    carriesStreamUrl: true,
  }),
  'activities.post': row({
    method: 'POST',
    path: '/conversations/{id}/activities',
    label: 'send an activity',
    replay: 'recorded',
    cause: true,
    send: true,
    match: 'activity',
  }),
  'activities.get': row({
    method: 'GET',
    path: '/conversations/{id}/activities',
    label: 'poll for activities',
    replay: 'activityLog',
    opensSession: 'resume',
    carriesAttachmentUrls: true,
  }),
  upload: row({
    method: 'POST',
    path: '/conversations/{id}/upload',
    label: 'upload files',
    replay: 'recorded',
    cause: true,
    send: true,
    match: 'filesAndActivity',
  }),
  stream: row({ method: 'GET', path: '/conversations/{id}/stream', label: 'open the stream', replay: 'upgrade', opensSession: 'resume' }),
  'session.getsessionid': row({ method: 'GET', path: '/session/getsessionid', label: 'get a session id', replay: 'recordedOrSynthesized' }),
  // GET of an attachment URL the upstream handed out (src/protocol/attachment-urls.ts); never returned by
  // matchRoute: the recorder knows these paths only because it saw the upstream hand them out.
  attachment: row({ method: null, path: null, label: 'fetch an attachment', replay: 'byPath' }),
  unknown: row({ method: null, path: null, label: 'not a Direct Line operation', replay: 'none' }),
} as const satisfies Record<string, RoutePolicy>;

export type RouteName = keyof typeof ROUTES;

/** Every route name, in table order (the cassette schema's `route` enum). */
export const ROUTE_NAMES = Object.keys(ROUTES) as [RouteName, ...RouteName[]];

/** The route names as constants, for code that must name one route (`Route.activitiesPost`). */
export const Route = {
  tokensGenerate: 'tokens.generate',
  tokensRefresh: 'tokens.refresh',
  conversationsStart: 'conversations.start',
  conversationsReconnect: 'conversations.reconnect',
  activitiesPost: 'activities.post',
  activitiesGet: 'activities.get',
  upload: 'upload',
  stream: 'stream',
  sessionGetSessionId: 'session.getsessionid',
  attachment: 'attachment',
  unknown: 'unknown',
} as const satisfies Record<string, RouteName>;

export function routePolicy(route: RouteName): RoutePolicy {
  return ROUTES[route];
}

export function isRouteName(s: string): s is RouteName {
  return Object.hasOwn(ROUTES, s);
}

export interface RouteMatch {
  route: RouteName;
  conversationId: string | null;
}

// Path templates split once: [segments, route]. `{id}` matches any one segment (the conversation id).
const MATCHERS = (Object.entries(ROUTES) as Array<[RouteName, RoutePolicy]>)
  .filter(([, p]) => p.method !== null && p.path !== null)
  .map(([route, p]) => ({ route, method: p.method!, segments: p.path!.split('/').filter(Boolean) }));

/** Classifies a request by method and by its path below the base path. */
export function matchRoute(method: string, subPath: string): RouteMatch {
  const m = method.toUpperCase();
  const parts: string[] = [];
  for (const segment of subPath.split('/')) if (segment) parts.push(safeDecode(segment));
  for (const matcher of MATCHERS) {
    if (matcher.method !== m || matcher.segments.length !== parts.length) continue;
    let conversationId: string | null = null;
    let ok = true;
    for (let i = 0; i < parts.length && ok; i++) {
      if (matcher.segments[i] === '{id}') conversationId = parts[i];
      else ok = matcher.segments[i] === parts[i];
    }
    if (ok) return { route: matcher.route, conversationId };
  }
  // Anything else under /conversations/{id}/… still names its conversation.
  const conversationId = parts[0] === 'conversations' && parts.length >= 2 ? parts[1] : null;
  return { route: 'unknown', conversationId };
}

/** Splits a request path into the part below basePath, or null when it is outside it. */
export function stripBase(path: string, basePath: string): string | null {
  const base = basePath.endsWith('/') ? basePath.replace(/\/+$/, '') : basePath;
  if (base === '') return path;
  if (path === base) return '/';
  if (path.startsWith(base + '/')) return path.slice(base.length);
  return null;
}

/** Normalises a user-given base path: leading slash, no trailing slash ('' for the root). */
export function normaliseBasePath(p: string): string {
  const trimmed = p.replace(/\/+$/, '');
  if (trimmed === '') return '';
  return trimmed.startsWith('/') ? trimmed : '/' + trimmed;
}

/** The conversation a path names (a stream URL, an attachment path), whatever its method. */
export function conversationOfPath(path: string, basePath: string, method = 'GET'): string | null {
  const sub = stripBase(path, basePath);
  return sub === null ? null : matchRoute(method, sub).conversationId;
}

function safeDecode(s: string): string {
  if (!s.includes('%')) return s; // nothing to decode (the common case): no try/catch, no copy
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
