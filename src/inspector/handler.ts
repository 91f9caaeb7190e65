// The inspector's HTTP handler, mountable under a prefix ('/' for `inspect --web`, '/_vcr/' on a running
// recorder or replay server). Answers only its own paths; returns false for anything else, so Direct Line
// routes are never touched.
//
//   <prefix>                  the page            <prefix>api/view      the whole view (JSON)
//   <prefix>page/<m>.js       its script modules  <prefix>api/detail?row=<key>    one row's event / note
//   <prefix>webchat.js        Web Chat's bundle   <prefix>api/chat?conversation=<key>  what the user saw
//   <prefix>api/live          Server-Sent Events (live mode only)
//
// It serves loopback clients only, unless told otherwise (allowRemote), and only under a loopback Host
// name then, so a web page elsewhere cannot read it through DNS rebinding.
import { decodeBody } from '../cassette/body.js';
import { recordedAttachment } from './attachments.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log.js';
import { findWebChatBundle, serveWebChatBundle, type WebChatBundle } from '../web/index.js';
import { pageModule } from './assets.js';
import type { InspectorData } from './data.js';
import { LiveChannel } from './live-channel.js';
import { renderInspectorPage } from './page-html.js';

export interface InspectorHandlerOptions {
  data: InspectorData;
  /** '/' or e.g. '/_vcr/' (leading and trailing slash). */
  prefix: string;
  logger?: Logger;
  /** Serve clients that are not on this machine. Default false. */
  allowRemote?: boolean;
}

export interface InspectorHandler {
  (req: IncomingMessage, res: ServerResponse): boolean;
  /** Ends the live channel's streams (before the server closes). */
  close(): void;
}

/** Whether botframework-webchat can be served: an explicit bundle (tests), null for "not installed", else a look-up. */
export function resolveWebChat(bundle: WebChatBundle | null | undefined): WebChatBundle | null {
  return bundle === undefined ? findWebChatBundle() : bundle;
}

export function createInspectorHandler(opts: InspectorHandlerOptions & { bundle: WebChatBundle | null }): InspectorHandler {
  const { data, prefix } = opts;
  const live = data.live ? new LiveChannel(data) : null;
  const page = Buffer.from(renderInspectorPage(data.title));
  const bare = prefix.replace(/\/$/, '');

  const handler = ((req, res) => {
    const method = (req.method ?? 'GET').toUpperCase();
    if (!req.url || (method !== 'GET' && method !== 'HEAD')) return false;
    const url = new URL(req.url, 'http://inspector.invalid');
    const path = url.pathname;
    if (bare !== '' && path === bare) {
      res.writeHead(308, { location: prefix });
      res.end();
      return true;
    }
    if (!path.startsWith(prefix)) return false;
    const refusal = refuse(req, opts.allowRemote ?? false);
    if (refusal) {
      send(res, method, 403, 'text/plain; charset=utf-8', Buffer.from(`${refusal}\n`));
      return true;
    }
    const rest = path.slice(prefix.length);
    if (rest === '' || rest === 'index.html') {
      send(res, method, 200, 'text/html; charset=utf-8', page);
      return true;
    }
    if (rest === 'api/view') {
      send(res, method, 200, 'application/json; charset=utf-8', data.viewJson());
      return true;
    }
    if (rest === 'api/detail') {
      const detail = data.detail(url.searchParams.get('row') ?? '');
      if (detail) sendJson(res, method, detail);
      else send(res, method, 404, 'text/plain; charset=utf-8', Buffer.from('no such row\n'));
      return true;
    }
    if (rest === 'api/chat') {
      const chat = data.chat(url.searchParams.get('conversation') ?? '');
      if (chat) sendJson(res, method, chat);
      else send(res, method, 404, 'text/plain; charset=utf-8', Buffer.from('no such conversation\n'));
      return true;
    }
    if (rest === 'api/attachment') {
      const cassette = data.cassette(Number(url.searchParams.get('cassette')));
      const ev = cassette ? recordedAttachment(cassette, url.searchParams.get('path') ?? '') : undefined;
      if (ev?.response) {
        const type = ev.response.headers['content-type'] ?? 'application/octet-stream';
        send(res, method, ev.response.status, type, decodeBody(ev.response.body));
      } else send(res, method, 404, 'text/plain; charset=utf-8', Buffer.from('this attachment was not fetched while recording\n'));
      return true;
    }
    if (rest === 'api/live') {
      if (live) live.attach(req, res);
      else send(res, method, 404, 'text/plain; charset=utf-8', Buffer.from('not live: this inspector shows cassette files\n'));
      return true;
    }
    if (rest === 'webchat.js') {
      if (opts.bundle) serveWebChatBundle(req, res, opts.bundle, opts.logger);
      else
        send(
          res,
          method,
          404,
          'text/plain; charset=utf-8',
          Buffer.from('botframework-webchat is not installed: the page uses its built-in chat view\n'),
        );
      return true;
    }
    const m = /^page\/([a-z][a-z0-9-]*)\.js$/.exec(rest);
    if (m) {
      pageModule(m[1]).then(
        (asset) => {
          if (!asset) return send(res, method, 404, 'text/plain; charset=utf-8', Buffer.from('no such module\n'));
          if (req.headers['if-none-match'] === asset.etag) {
            res.writeHead(304, { etag: asset.etag });
            res.end();
            return;
          }
          send(res, method, 200, 'text/javascript; charset=utf-8', asset.body, { etag: asset.etag, 'cache-control': 'no-cache' });
        },
        (err: Error) => {
          opts.logger?.error({ err: err.message }, 'inspector: cannot serve a page module');
          send(res, method, 500, 'text/plain; charset=utf-8', Buffer.from(`${err.message}\n`));
        },
      );
      return true;
    }
    send(res, method, 404, 'text/plain; charset=utf-8', Buffer.from('not an inspector path\n'));
    return true;
  }) as InspectorHandler;
  handler.close = () => live?.close();
  return handler;
}

const LOOPBACK_NAME = /^(localhost|.+\.localhost|127(\.\d{1,3}){3}|\[::1\]|::1)$/i;

/** Why a request may not see the inspector, or null. */
function refuse(req: IncomingMessage, allowRemote: boolean): string | null {
  if (allowRemote) return null;
  if (!isLoopbackAddress(req.socket.remoteAddress))
    return 'the inspector answers only on this machine (loopback); start it with the remote option to share it';
  const host = (req.headers.host ?? '').replace(/:\d+$/, '');
  if (!LOOPBACK_NAME.test(host))
    return `the inspector answers only under a loopback host name (127.0.0.1, localhost), not ${host || 'no Host header'}`;
  return null;
}

export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  return a === '::1' || /^127\./.test(a);
}

function sendJson(res: ServerResponse, method: string, value: unknown): void {
  send(res, method, 200, 'application/json; charset=utf-8', Buffer.from(JSON.stringify(value)));
}

function send(res: ServerResponse, method: string, status: number, type: string, body: Buffer, extra: Record<string, string> = {}): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': String(body.length),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'",
    ...extra,
  });
  res.end(method === 'HEAD' ? undefined : body);
}
