// The configured upstream: where every request goes, and nowhere else.
import { normaliseBasePath } from '../protocol/routes.js';

export const DEFAULT_UPSTREAM = 'https://directline.botframework.com/v3/directline';
export const DEFAULT_BASE_PATH = '/v3/directline';

export interface Upstream {
  /** scheme://host:port, e.g. https://directline.botframework.com */
  origin: string;
  /** The path prefix the upstream serves, e.g. /v3/directline ('' for the root). */
  basePath: string;
  secure: boolean;
  /** ws: or wss: origin for the stream. */
  wsOrigin: string;
}

export class UpstreamError extends Error {}

/** Parses --upstream. A URL without a path means the hosted service's /v3/directline. */
export function parseUpstream(raw: string): Upstream {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UpstreamError(`--upstream "${raw}" is not a URL (expected e.g. ${DEFAULT_UPSTREAM})`);
  }
  const secure = url.protocol === 'https:' || url.protocol === 'wss:';
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)) {
    throw new UpstreamError(`--upstream "${raw}" must be an http:// or https:// URL`);
  }
  if (url.username || url.password)
    throw new UpstreamError('--upstream must not carry credentials; clients send their own secret or token');
  if (url.search || url.hash) throw new UpstreamError(`--upstream "${raw}" must not have a query or fragment`);
  const host = url.host;
  const basePath = url.pathname === '/' ? DEFAULT_BASE_PATH : normaliseBasePath(url.pathname);
  return {
    origin: `${secure ? 'https' : 'http'}://${host}`,
    basePath,
    secure,
    wsOrigin: `${secure ? 'wss' : 'ws'}://${host}`,
  };
}
