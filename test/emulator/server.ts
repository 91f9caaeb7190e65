// HTTP routing of the emulated Direct Line 3.0 service (reference §1) plus the fault-injection switches.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { TokenStore, type Credential } from './auth.js';
import { Bot } from './bot.js';
import {
  ConversationStore,
  parseWatermark,
  type Activity,
  type ChannelAccount,
  type Conversation,
  type StoredFile,
} from './conversations.js';
import {
  chooseCoding,
  compressResponse,
  field,
  HttpError,
  injectedError,
  parseJson,
  PREFLIGHT_HEADERS,
  CORS_HEADERS,
  readBody,
  sendError,
  sendJson,
  type ContentCoding,
} from './errors.js';
import { headerParams, parseMultipart } from './multipart.js';
import { StreamHub } from './stream.js';
import type { Emulator, EmulatorOptions, FailRoute, RequestLogEntry } from './types.js';

export const DEFAULT_SECRET = 'emulator-secret-0123456789';
export const DEFAULT_BASE_PATH = '/v3/directline';

type RouteName = FailRoute | 'attachments.get';

interface Route {
  name: RouteName;
  method: string;
  pattern: RegExp;
}

// Paths are relative to basePath. Conversation ids never contain '/', activity ids ('|') never appear in paths.
const ROUTES: Route[] = [
  { name: 'tokens.generate', method: 'POST', pattern: /^\/tokens\/generate$/ },
  { name: 'tokens.refresh', method: 'POST', pattern: /^\/tokens\/refresh$/ },
  { name: 'conversations.start', method: 'POST', pattern: /^\/conversations$/ },
  { name: 'conversations.reconnect', method: 'GET', pattern: /^\/conversations\/([^/]+)$/ },
  { name: 'activities.post', method: 'POST', pattern: /^\/conversations\/([^/]+)\/activities$/ },
  { name: 'activities.get', method: 'GET', pattern: /^\/conversations\/([^/]+)\/activities$/ },
  { name: 'upload', method: 'POST', pattern: /^\/conversations\/([^/]+)\/upload$/ },
  { name: 'attachments.get', method: 'GET', pattern: /^\/attachments\/([^/]+)\/(\d+)$/ },
];

interface Injected {
  status: number;
  retryAfter?: string;
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const host = opts.host ?? '127.0.0.1';
  const basePath = normaliseBasePath(opts.basePath ?? DEFAULT_BASE_PATH);
  const secret = opts.secret ?? DEFAULT_SECRET;
  const tokens = new TokenStore(secret, opts.tokenTtlMs ?? 3_600_000, opts.streamTokenTtlMs ?? 60_000);
  const conversations = new ConversationStore();
  const bot = new Bot(opts.bot);
  const hub = new StreamHub({
    basePath,
    keepAliveMs: opts.keepAliveMs ?? 0,
    tokens,
    conversations,
    perMessageDeflate: Boolean(opts.compression),
  });
  const codings: ContentCoding[] = opts.compression === true ? ['br', 'gzip', 'deflate'] : opts.compression ? [opts.compression] : [];
  const requests: RequestLogEntry[] = [];
  const failures = new Map<FailRoute, Injected[]>();
  const pendingDelays = new Set<NodeJS.Timeout>();
  // One grammar id per emulated bot, like the service's per-bot referenceGrammarId.
  const referenceGrammarId = randomUUID();
  let origin = '';
  let closed = false;

  const delay = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const t = setTimeout(() => {
        pendingDelays.delete(t);
        resolve();
      }, ms);
      pendingDelays.add(t);
    });

  const streamUrl = (conversationId: string, watermark: string, t: string): string =>
    `${origin.replace(/^http/, 'ws')}${basePath}/conversations/${encodeURIComponent(conversationId)}/stream` +
    `?watermark=${encodeURIComponent(watermark)}&t=${t}`;

  /** The part every user-sent activity goes through: stamping, echo, synchronous bot call (§1.3 (5), §1.6). */
  const acceptUserActivity = async (
    conversation: Conversation,
    cred: Credential,
    input: Activity,
    fallbackUser?: string,
  ): Promise<string> => {
    const from = isObject(input.from) ? (input.from as Partial<ChannelAccount> & Record<string, unknown>) : undefined;
    const tokenUser = cred.kind === 'token' ? cred.record.claims.user : undefined;
    // A user embedded in the token overrides from.id (§1.6).
    const userId = tokenUser ?? (typeof from?.id === 'string' && from.id !== '' ? from.id : undefined) ?? fallbackUser;
    if (!userId) throw new HttpError(400, 'MissingProperty', "The activity is missing a 'from' user id");
    const activity: Activity = {
      ...input,
      serviceUrl: `${origin}/`,
      from: { ...from, id: userId, role: from?.role ?? 'user' },
    };
    const { activity: stamped } = conversation.add(activity);
    let botFailed = false;
    try {
      bot.reply(conversation, stamped);
    } catch {
      botFailed = true;
    }
    await delay(bot.postDelayMs);
    // A throwing script is a bot answering 500: the service reports 502 BotError (§1.5) after the echo was stored.
    if (botFailed) throw new HttpError(502, 'BotError', 'Failed to send activity: bot returned an error', { httpStatusCode: 500 });
    return stamped.id as string;
  };

  const handlers: Record<RouteName, (req: IncomingMessage, res: ServerResponse, url: URL, params: string[]) => Promise<void>> = {
    // (1) Generate token: secret only; fixes the conversation id, contacts no bot (§1.3 (1)).
    'tokens.generate': async (req, res) => {
      const cred = tokens.authenticate(req.headers.authorization);
      if (cred.kind !== 'secret') throw new HttpError(403, 'BadArgument', 'Generating a token requires a secret');
      const body = parseJson(await readBody(req));
      const user = readUser(field(body, 'user'));
      const conversation = conversations.create();
      if (user) conversation.user = user;
      const token = tokens.issueConversationToken(conversation.id, user?.id);
      sendJson(res, 200, { conversationId: conversation.id, token, expires_in: tokens.expiresIn });
    },

    // (2) Refresh: a valid, unexpired token → a new one for the same conversation (§1.3 (2)).
    'tokens.refresh': async (req, res) => {
      const cred = tokens.authenticate(req.headers.authorization);
      if (cred.kind !== 'token') throw new HttpError(403, 'BadArgument', 'Refreshing requires a token');
      const { conv, user } = cred.record.claims;
      const token = tokens.issueConversationToken(conv, user);
      sendJson(res, 200, { conversationId: conv, token, expires_in: tokens.expiresIn });
    },

    // (3) Start: 201 when a conversation is created, 200 when it was already started (§1.3 (3), §6.4).
    'conversations.start': async (req, res) => {
      const cred = tokens.authenticate(req.headers.authorization);
      const body = parseJson(await readBody(req));
      const conversation = cred.kind === 'secret' ? conversations.create() : conversations.require(cred.record.claims.conv);
      const tokenUser = cred.kind === 'token' ? cred.record.claims.user : undefined;
      const bodyUser = readUser(field(body, 'user'));
      if (tokenUser) conversation.user = { ...conversation.user, id: tokenUser };
      else if (bodyUser && !conversation.user) conversation.user = bodyUser;
      const created = !conversation.started;
      conversation.started = true;
      const userId = tokenUser ?? conversation.user?.id;
      const token = tokens.issueConversationToken(conversation.id, userId);
      const t = tokens.issueStreamToken(conversation.id, userId, -1);
      sendJson(res, created ? 201 : 200, {
        conversationId: conversation.id,
        token,
        expires_in: tokens.expiresIn,
        streamUrl: streamUrl(conversation.id, '-', t),
        referenceGrammarId,
      });
      if (created) bot.welcome(conversation);
    },

    // (4) Reconnect: fresh stream URL + token; with a watermark the stream replays after it, without one it
    // only carries what arrives after this call (§1.3 (4)).
    'conversations.reconnect': async (req, res, url, [id]) => {
      const { conversation, cred } = authorise(req, id!);
      const wm = url.searchParams.get('watermark');
      const after = parseWatermark(wm);
      const userId = cred.kind === 'token' ? cred.record.claims.user : conversation.user?.id;
      const token = tokens.issueConversationToken(conversation.id, userId);
      const t = tokens.issueStreamToken(conversation.id, userId, after ?? conversation.lastStoredSeq());
      sendJson(res, 200, {
        conversationId: conversation.id,
        token,
        expires_in: tokens.expiresIn,
        streamUrl: streamUrl(conversation.id, after === undefined ? '-' : wm!.trim(), t),
      });
    },

    // (5) Send activity: answered only after the bot was called and postDelayMs elapsed (§1.3 (5), §6.8).
    'activities.post': async (req, res, _url, [id]) => {
      const { conversation, cred } = authorise(req, id!);
      const body = parseJson(await readBody(req));
      if (!isObject(body)) throw new HttpError(400, 'BadArgument', 'The request body must be an activity object');
      const activityId = await acceptUserActivity(conversation, cred, body as Activity);
      sendJson(res, 200, { id: activityId });
    },

    // (6) Get activities after a watermark; typing never shows up here (§1.3 (6), §2.6).
    'activities.get': async (req, res, url, [id]) => {
      const { conversation } = authorise(req, id!);
      const after = parseWatermark(url.searchParams.get('watermark'));
      const last = conversation.lastStoredSeq();
      sendJson(res, 200, {
        activities: conversation.storedAfter(after).map((d) => d.activity),
        ...(last >= 0 ? { watermark: String(last) } : {}),
      });
    },

    // (7) Upload: raw single file or multipart with optional activity part (§1.3 (7)).
    upload: async (req, res, url, [id]) => {
      const { conversation, cred } = authorise(req, id!);
      const body = await readBody(req);
      const contentType = req.headers['content-type'] ?? 'application/octet-stream';
      const files: StoredFile[] = [];
      let template: Activity | undefined;
      if (/^multipart\/form-data/i.test(contentType)) {
        for (const part of parseMultipart(body, contentType)) {
          if (/^application\/vnd\.microsoft\.activity/i.test(part.contentType ?? '')) {
            const parsed = parseJson(part.data);
            if (!isObject(parsed)) throw new HttpError(400, 'BadArgument', 'The activity part must hold an activity object');
            template = parsed as Activity;
          } else {
            files.push({
              contentType: part.contentType ?? 'application/octet-stream',
              name: part.filename ?? part.name ?? 'file',
              data: part.data,
            });
          }
        }
      } else {
        const disposition = headerParams(req.headers['content-disposition']);
        files.push({ contentType, name: disposition.filename ?? disposition.name ?? 'file', data: body });
      }
      if (files.length === 0) throw new HttpError(400, 'BadArgument', 'No file in the upload');
      const uploadId = conversations.storeUpload(files);
      // contentUrls point at the emulator itself, like the service's private links (§1.3 (7), §6.15).
      const attachments = files.map((f, n) => ({
        ...(isObject(template?.attachments?.[n]) ? template!.attachments[n] : {}),
        contentType: f.contentType,
        contentUrl: `${origin}${basePath}/attachments/${uploadId}/${n}`,
        name: f.name,
      }));
      const activity: Activity = { ...(template ?? {}), type: template?.type ?? 'message', attachments };
      const activityId = await acceptUserActivity(conversation, cred, activity, url.searchParams.get('userId') ?? undefined);
      sendJson(res, 200, { id: activityId });
    },

    // Uploaded bytes behind the contentUrls. The real links' access rules are unknown; these need no auth.
    'attachments.get': async (_req, res, _url, [uploadId, n]) => {
      const file = conversations.uploadedFile(uploadId!, Number(n));
      if (!file) throw new HttpError(404, 'BadArgument', 'Attachment not found');
      res.writeHead(200, { 'content-type': file.contentType, 'content-length': String(file.data.length), ...CORS_HEADERS });
      res.end(file.data);
    },
  };

  /** Auth, then token scope (403), then existence (404). */
  function authorise(req: IncomingMessage, conversationId: string): { conversation: Conversation; cred: Credential } {
    const cred = tokens.authenticate(req.headers.authorization);
    tokens.requireConversation(cred, conversationId);
    return { conversation: conversations.require(conversationId), cred };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const entry: RequestLogEntry = { method: req.method ?? '', path: req.url ?? '', headers: { ...req.headers }, ...servername(req) };
    requests.push(entry);
    if (codings.length > 0) {
      const coding = chooseCoding(req.headers['accept-encoding'], codings);
      if (coding) {
        compressResponse(res, coding);
        res.once('finish', () => {
          const enc = res.getHeader('content-encoding');
          if (typeof enc === 'string') entry.responseEncoding = enc;
        });
      }
    }
    if (req.method === 'OPTIONS') {
      // Browsers preflight every call (Authorization, JSON, x-ms-bot-agent; §1.1).
      res.writeHead(200, { ...PREFLIGHT_HEADERS, 'content-length': '0' });
      res.end();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://emulator.invalid');
    const sub = url.pathname.startsWith(`${basePath}/`) ? url.pathname.slice(basePath.length) : undefined;
    const candidates = sub === undefined ? [] : ROUTES.filter((r) => r.pattern.test(sub));
    if (candidates.length === 0) throw new HttpError(404, 'BadArgument', `Unknown route ${req.method} ${url.pathname}`);
    const route = candidates.find((r) => r.method === req.method);
    if (!route) {
      throw new HttpError(
        405,
        'BadArgument',
        `The requested resource does not support http method '${req.method}'`,
        {},
        {
          allow: candidates.map((r) => r.method).join(', '),
        },
      );
    }
    // Injected faults answer before anything else (no auth, no side effects).
    if (route.name !== 'attachments.get') {
      const queue = failures.get(route.name);
      const fault = queue?.shift();
      if (fault) throw injectedError(fault.status, fault.retryAfter);
    }
    const params = route.pattern
      .exec(sub!)!
      .slice(1)
      .map((p) => decodeURIComponent(p));
    await handlers[route.name](req, res, url, params);
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((err: unknown) => {
      const e = err instanceof HttpError ? err : new HttpError(500, 'ServiceError', err instanceof Error ? err.message : String(err));
      sendError(res, e);
    });
  };
  const server = opts.tls ? createTlsServer({ cert: opts.tls.cert, key: opts.tls.key }, onRequest) : createServer(onRequest);
  server.on('upgrade', (req: IncomingMessage, socket, head) => {
    const entry: RequestLogEntry = { method: req.method ?? 'GET', path: req.url ?? '', headers: { ...req.headers }, ...servername(req) };
    requests.push(entry);
    hub.handleUpgrade(req, socket, head, (ws) => {
      entry.wsExtensions = ws.extensions;
    });
  });
  // Keep-alive sockets of clients (xhr2 uses the keep-alive global agent) must not crash the server on reset.
  server.on('clientError', (_err, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  origin = `${opts.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    url: origin,
    domain: `${origin}${basePath}`,
    secret,
    requests,
    async close() {
      if (closed) return;
      closed = true;
      bot.dispose();
      for (const t of pendingDelays) clearTimeout(t);
      pendingDelays.clear();
      hub.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
    failNext(route, status, options = {}) {
      const queue = failures.get(route) ?? [];
      for (let i = 0; i < (options.count ?? 1); i++) queue.push({ status, retryAfter: options.retryAfter });
      failures.set(route, queue);
    },
    dropSocket(conversationId, code, reason) {
      hub.drop(conversationId, code, reason);
    },
    expireStreamTokens() {
      tokens.expireStreamTokens();
    },
    conversations() {
      return conversations.ids();
    },
    issuedTokens() {
      return [...tokens.issued];
    },
  };
}

/** TLS mode: the SNI name of the request's connection. */
function servername(req: IncomingMessage): { servername?: string } {
  const name = (req.socket as Partial<TLSSocket>).servername;
  return typeof name === 'string' && name ? { servername: name } : {};
}

function normaliseBasePath(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  if (trimmed === '') return '';
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** `{user:{id,name}}` of TokenParameters / the start body, any casing (§1.1). */
function readUser(value: unknown): ChannelAccount | undefined {
  const id = field(value, 'id');
  if (typeof id !== 'string' || id === '') return undefined;
  const name = field(value, 'name');
  return typeof name === 'string' ? { id, name } : { id };
}
