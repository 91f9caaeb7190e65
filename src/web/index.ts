// The Web Chat demo page, mountable on the recorder and on the replay server: GET / is a page with Web Chat
// pointed at the serving server's own Direct Line domain (the page's origin + basePath), GET /webchat.js is
// Web Chat's prebuilt bundle from the local botframework-webchat install (no CDN; works offline).
//
//   const page = createDemoPage({ mode: 'replay', basePath: '/v3/directline', title: 'demo.json', credentials: { token: DEMO_TOKEN } });
//   http.createServer((req, res) => { if (page(req, res)) return; …the Direct Line server… });
import { createReadStream, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { basename } from 'node:path';
import type { Cassette } from '../cassette/schema.js';
import { readModel, type ExchangeView } from '../model/index.js';
import { normaliseBasePath, Route } from '../protocol/routes.js';
import type { Logger } from '../log.js';
import { findWebChatBundle, WEBCHAT_INSTALL_COMMAND, type WebChatBundle } from './bundle.js';
import { DEMO_TOKEN, renderMissingPage, renderPage, type DemoCredentials, type DemoMode, type PageContent } from './page.js';

export { findWebChatBundle, WEBCHAT_INSTALL_COMMAND, WEBCHAT_PACKAGE, WEBCHAT_VERSION, type WebChatBundle } from './bundle.js';
export { DEMO_SECRET, DEMO_TOKEN, escapeHtml, type DemoCredentials, type DemoMode } from './page.js';

export interface DemoPageOptions {
  /** The Direct Line path prefix the server serves, e.g. '/v3/directline' (the page uses its own origin + this). */
  basePath: string;
  /** Cassette name shown in the header (a path is reduced to its file name); null/undefined: none. */
  title?: string | null;
  /** See DemoCredentials. Replay: `{ token: DEMO_TOKEN }` (or 'generate'); record: 'ask'. */
  credentials: DemoCredentials;
  /** Header wording; default 'record' when credentials is 'ask', else 'replay'. */
  mode?: DemoMode;
  /** One extra line under the header, e.g. from recordedUserMessages(). */
  note?: string | null;
  /** Where "Web Chat is not installed" is logged (once per page handler). */
  logger?: Logger;
  /** Override bundle discovery (tests): a bundle, or null for "not installed". Default: findWebChatBundle(). */
  bundle?: WebChatBundle | null;
}

/** Answers GET/HEAD for /, /index.html, /webchat.js and /favicon.ico; returns false (untouched) for anything else. */
export type DemoPageHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

const PAGE_PATHS = new Set(['/', '/index.html']);

export function createDemoPage(opts: DemoPageOptions): DemoPageHandler {
  const basePath = normaliseBasePath(opts.basePath);
  const content: PageContent = {
    mode: opts.mode ?? (opts.credentials === 'ask' ? 'record' : 'replay'),
    basePath,
    title: opts.title ? basename(opts.title) : null,
    credentials: opts.credentials,
    note: opts.note ?? null,
  };
  const page = Buffer.from(renderPage(content));
  let bundle: WebChatBundle | null | undefined = opts.bundle;
  let warned = false;

  // Looked up until found, so installing Web Chat while the server runs only needs a page reload.
  const currentBundle = (): WebChatBundle | null => {
    if (bundle) return bundle;
    if (opts.bundle === undefined) bundle = findWebChatBundle();
    if (!bundle && !warned) {
      warned = true;
      opts.logger?.warn(
        'Web Chat demo page: botframework-webchat is not installed, so / shows only install instructions. Install it with: ' +
          `${WEBCHAT_INSTALL_COMMAND}`,
      );
    }
    return bundle ?? null;
  };

  return (req, res) => {
    const method = (req.method ?? 'GET').toUpperCase();
    if ((method !== 'GET' && method !== 'HEAD') || !req.url || !req.url.startsWith('/')) return false;
    // Only the path is looked at: the query may carry a secret the person put there; it is never logged.
    const path = new URL(req.url, 'http://page.invalid').pathname;
    if (PAGE_PATHS.has(path)) {
      const b = currentBundle();
      const scheme = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http'; // a TLS listener
      const body = b ? page : Buffer.from(renderMissingPage(content, `${scheme}://${req.headers.host ?? 'localhost'}${basePath}`));
      send(res, method, 200, 'text/html; charset=utf-8', body);
      return true;
    }
    if (path === '/webchat.js') {
      const b = currentBundle();
      if (!b) {
        send(
          res,
          method,
          404,
          'text/plain; charset=utf-8',
          Buffer.from(`botframework-webchat is not installed; install it with: ${WEBCHAT_INSTALL_COMMAND}\n`),
        );
        return true;
      }
      serveBundle(req, res, method, b, opts.logger);
      return true;
    }
    if (path === '/favicon.ico') {
      res.writeHead(204, { 'cache-control': 'max-age=86400' });
      res.end();
      return true;
    }
    return false;
  };
}

function send(res: ServerResponse, method: string, status: number, type: string, body: Buffer): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': String(body.length),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
  });
  res.end(method === 'HEAD' ? undefined : body);
}

/** Serves Web Chat's bundle file (ETag, 304, HEAD): for the demo page and the inspector alike. */
export function serveWebChatBundle(req: IncomingMessage, res: ServerResponse, b: WebChatBundle, logger?: Logger): void {
  serveBundle(req, res, (req.method ?? 'GET').toUpperCase(), b, logger);
}

function serveBundle(req: IncomingMessage, res: ServerResponse, method: string, b: WebChatBundle, logger: Logger | undefined): void {
  let size: number;
  let etag: string;
  try {
    const st = statSync(b.file);
    size = st.size;
    etag = `"${b.version}-${st.size}-${Math.trunc(st.mtimeMs)}"`;
  } catch (err) {
    logger?.error({ err: (err as Error).message }, 'Web Chat demo page: cannot read webchat.js');
    send(res, method, 500, 'text/plain; charset=utf-8', Buffer.from(`cannot read ${b.file}; reinstall with: ${WEBCHAT_INSTALL_COMMAND}\n`));
    return;
  }
  const headers = { etag, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' };
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  res.writeHead(200, { ...headers, 'content-type': 'text/javascript; charset=utf-8', 'content-length': String(size) });
  if (method === 'HEAD') {
    res.end();
    return;
  }
  const stream = createReadStream(b.file);
  stream.on('error', () => res.destroy());
  res.on('close', () => stream.destroy());
  stream.pipe(res);
}

// ---- helpers for the replay server -----------------------------------------------------------------

/**
 * The user messages (type message, with text) of the cassette's first conversation that posted any, in order:
 * what a person has to type on a replay page for the recording to match.
 */
export function recordedUserMessages(cassette: Cassette, max = 6): string[] {
  const texts: string[] = [];
  const first = readModel(cassette).conversations.find((c) => c.exchanges.some(isTypedMessage));
  for (const x of first?.exchanges ?? []) {
    if (!isTypedMessage(x)) continue;
    const text = x.posted!.text as string;
    texts.push(text.length > 80 ? `${text.slice(0, 79)}…` : text);
    if (texts.length >= max) break;
  }
  return texts;
}

/** A posted message with text: what a person types. */
function isTypedMessage(x: ExchangeView): boolean {
  return x.posted?.type === 'message' && typeof x.posted.text === 'string' && x.posted.text !== '';
}

/**
 * Demo page options for replaying `cassette` (file: its path, for the header): base path from the cassette;
 * credentials `'generate'` when its first conversation began with tokens.generate, else a fixed token; a note
 * listing the messages to type.
 */
export function replayDemoPageOptions(cassette: Cassette, file?: string | null): DemoPageOptions {
  // A page that generates its token when the recording did; else a fixed token (replay accepts any).
  const opening = readModel(cassette)
    .conversations.flatMap((c) => c.exchanges)
    .find((x) => x.policy.opensSession === 'new');
  const generate = opening?.route === Route.tokensGenerate;
  const messages = recordedUserMessages(cassette);
  return {
    mode: 'replay',
    basePath: cassette.upstream.basePath,
    title: file ?? null,
    credentials: generate ? 'generate' : { token: DEMO_TOKEN },
    note: messages.length > 0 ? `Send the recorded messages in order: ${messages.map((m) => `“${m}”`).join(' · ')}` : null,
  };
}
