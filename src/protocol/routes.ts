// The Direct Line 3.0 route table (docs/protocol.md#routes). Paths are given
// relative to the deployment's base path (e.g. /v3/directline), which varies between hosts.

export type RouteName =
  | 'tokens.generate'
  | 'tokens.refresh'
  | 'conversations.start'
  | 'conversations.reconnect'
  | 'activities.post'
  | 'activities.get'
  | 'upload'
  | 'stream'
  | 'session.getsessionid'
  // GET of an attachment URL the upstream handed out (src/protocol/attachment-urls.ts); never returned by
  // matchRoute: the recorder knows these paths only because it saw the upstream hand them out.
  | 'attachment'
  | 'unknown';

export interface RouteMatch {
  route: RouteName;
  conversationId: string | null;
}

/** Classifies a request by method and by its path below the base path. */
export function matchRoute(method: string, subPath: string): RouteMatch {
  const m = method.toUpperCase();
  const parts = subPath.split('/').filter(Boolean).map(safeDecode);
  const none = (route: RouteName): RouteMatch => ({ route, conversationId: null });
  if (parts[0] === 'tokens' && parts.length === 2 && m === 'POST') {
    if (parts[1] === 'generate') return none('tokens.generate');
    if (parts[1] === 'refresh') return none('tokens.refresh');
  }
  if (parts[0] === 'session' && parts[1] === 'getsessionid' && parts.length === 2 && m === 'GET') return none('session.getsessionid');
  if (parts[0] === 'conversations') {
    if (parts.length === 1 && m === 'POST') return none('conversations.start');
    const conversationId = parts[1] ?? null;
    if (parts.length === 2 && m === 'GET') return { route: 'conversations.reconnect', conversationId };
    if (parts.length === 3) {
      if (parts[2] === 'activities' && m === 'POST') return { route: 'activities.post', conversationId };
      if (parts[2] === 'activities' && m === 'GET') return { route: 'activities.get', conversationId };
      if (parts[2] === 'upload' && m === 'POST') return { route: 'upload', conversationId };
      if (parts[2] === 'stream' && m === 'GET') return { route: 'stream', conversationId };
    }
    if (conversationId) return { route: 'unknown', conversationId };
  }
  return none('unknown');
}

/** Splits a request path into the part below basePath, or null when it is outside it. */
export function stripBase(path: string, basePath: string): string | null {
  const base = basePath.replace(/\/+$/, '');
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

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
