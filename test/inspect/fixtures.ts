// A small typed builder for realistic cassettes, and the scenario the inspect tests share: two
// conversations, one over the WebSocket stream and one over polling, plus a failed send (502) and an
// unreachable upstream.
import type { RouteName } from '../../src/protocol/routes.js';
import { validateCassette } from '../../src/cassette/load.js';
import type { Body, Cassette, CassetteEvent, HttpEvent } from '../../src/cassette/schema.js';
import type { Activity } from '../../src/protocol/types.js';

export const ORIGIN = 'https://directline.botframework.com';
export const BASE = '/v3/directline';
export const CREATED_AT = '2026-06-12T12:53:39.000Z';

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

export interface HttpSpec {
  t: number;
  route: RouteName;
  method: 'GET' | 'POST';
  /** Below the base path, e.g. `/conversations`. */
  path: string;
  conversationId?: string | null;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: unknown;
  status?: number;
  responseHeaders?: Record<string, string>;
  response?: unknown;
  duration?: number;
  /** Upstream unreachable: no response, this error instead. */
  error?: { code: string; message: string };
}

export class CassetteBuilder {
  private readonly events: CassetteEvent[] = [];
  private readonly placeholders: Record<string, string> = {};

  constructor(private readonly opts: { origin?: string; basePath?: string; createdAt?: string } = {}) {}

  get basePath(): string {
    return this.opts.basePath ?? BASE;
  }

  placeholder(name: string, kind: string): this {
    this.placeholders[name] = kind;
    return this;
  }

  http(s: HttpSpec): this {
    const body = (v: unknown): Body => (v === undefined ? null : typeof v === 'string' ? { text: v } : { json: v });
    const headers: Record<string, string> = {
      authorization: 'Bearer DLVCR_TOKEN_1',
      'x-ms-bot-agent': 'DirectLine/3.0 (directlinejs 0.15.8)',
      ...s.headers,
    };
    if (s.body !== undefined) headers['content-type'] ??= 'application/json';
    const e: HttpEvent = {
      type: 'http',
      t: s.t,
      conversationId: s.conversationId ?? null,
      route: s.route,
      request: { method: s.method, path: this.basePath + s.path, query: s.query ?? {}, headers, body: body(s.body) },
      response: s.error ? null : { status: s.status ?? 200, headers: { ...JSON_HEADERS, ...s.responseHeaders }, body: body(s.response) },
      duration: s.duration ?? 25,
    };
    if (s.error) e.error = s.error;
    this.events.push(e);
    return this;
  }

  wsOpen(s: {
    t: number;
    socket: number;
    conversationId: string;
    watermark?: string;
    streamToken?: string;
    status?: number;
    refusal?: unknown;
  }): this {
    this.events.push({
      type: 'ws.open',
      t: s.t,
      conversationId: s.conversationId,
      socket: s.socket,
      path: `${this.basePath}/conversations/${s.conversationId}/stream`,
      query: { watermark: s.watermark ?? '-', t: s.streamToken ?? 'DLVCR_STREAMTOKEN_1' },
      status: s.status ?? 101,
      ...(s.refusal !== undefined ? { response: { status: s.status ?? 403, headers: JSON_HEADERS, body: { json: s.refusal } } } : {}),
    });
    return this;
  }

  /** A server frame carrying an ActivitySet. */
  frame(t: number, socket: number, conversationId: string, activities: Activity[], watermark?: string): this {
    const set: Record<string, unknown> = { activities };
    if (watermark !== undefined) set.watermark = watermark;
    this.events.push({ type: 'ws.message', t, conversationId, socket, from: 'server', data: { json: set } });
    return this;
  }

  keepAlive(t: number, socket: number, conversationId: string): this {
    this.events.push({ type: 'ws.message', t, conversationId, socket, from: 'server', data: { text: '' } });
    return this;
  }

  ping(t: number, socket: number, conversationId: string): this {
    this.events.push({ type: 'ws.message', t, conversationId, socket, from: 'client', data: { text: '' } });
    return this;
  }

  wsClose(s: {
    t: number;
    socket: number;
    conversationId: string;
    by: 'server' | 'client' | 'proxy';
    code: number;
    reason?: string;
  }): this {
    this.events.push({
      type: 'ws.close',
      t: s.t,
      conversationId: s.conversationId,
      socket: s.socket,
      by: s.by,
      code: s.code,
      reason: s.reason ?? '',
    });
    return this;
  }

  /** Raw object (events in time order), before validation. */
  raw(): Cassette {
    const events = [...this.events].sort((a, b) => a.t - b.t);
    return {
      version: 1,
      tool: { name: 'directline-vcr', version: '0.1.0' },
      createdAt: this.opts.createdAt ?? CREATED_AT,
      upstream: { origin: this.opts.origin ?? ORIGIN, basePath: this.basePath },
      redaction: { placeholders: { ...this.placeholders } },
      events,
    };
  }

  /** The cassette, validated as the loader would. */
  build(): Cassette {
    return validateCassette(JSON.parse(JSON.stringify(this.raw())), '<fixture>');
  }
}

// ------------------------------------------------------------------------------------------ scenario

export const WS_CONV = 'AbCdEfGhIjKlMnOpQrStUv-us';
export const POLL_CONV = 'ZyXwVuTsRqPoNmLkJiHgFe-eu';

const USER = { id: 'dl_user-4711', name: 'Ada', role: 'user' };
const BOT = { id: 'emulator-bot', name: 'Emulator Bot', role: 'bot' };
const POLL_USER = { id: 'r_k2j3h4g5' };
const POLL_BOT = { id: 'pizza-bot', name: 'Pizza Bot' };

const ts = (t: number) => new Date(Date.parse(CREATED_AT) + t).toISOString().replace('Z', '0000Z');

function act(conversationId: string, seq: number, t: number, from: Record<string, string>, fields: Activity): Activity {
  return {
    id: `${conversationId}|${String(seq).padStart(7, '0')}`,
    timestamp: ts(t),
    channelId: 'directline',
    conversation: { id: conversationId },
    from,
    ...fields,
  };
}

export const LONG_TEXT = 'Hello there, this is a fairly long message that must be cut short in the timeline because it is long';

/** Numbers the tests assert on. */
export const SCENARIO = {
  httpEvents: 12,
  wsSocketFrames: 19, // frames on socket 1 (activity frames + keep-alives + pings)
  wsClientFrames: 3,
  firstKeepAlives: 3,
  laterKeepAlives: 4,
  laterPings: 2,
  wsActivities: 9, // distinct activities on the stream (typing twice)
  wsTyping: 2,
  pollActivities: 4,
};

export function scenario(): CassetteBuilder {
  const b = new CassetteBuilder();
  b.placeholder('DLVCR_SECRET_1', 'secret')
    .placeholder('DLVCR_TOKEN_1', 'token')
    .placeholder('DLVCR_TOKEN_2', 'token')
    .placeholder('DLVCR_STREAMTOKEN_1', 'streamToken');

  // ---- conversation 1: WebSocket
  const W = WS_CONV;
  b.http({
    t: 0,
    route: 'conversations.start',
    method: 'POST',
    path: '/conversations',
    headers: { authorization: 'Bearer DLVCR_SECRET_1' },
    body: { user: { id: USER.id }, locale: 'en-US' },
    status: 201,
    duration: 45,
    response: {
      conversationId: W,
      token: 'DLVCR_TOKEN_1',
      expires_in: 3600,
      referenceGrammarId: '2ea0374a-8a49-4f7e-a7c4-6b6a7c7f5c40',
      streamUrl: `wss://directline.botframework.com${BASE}/conversations/${W}/stream?watermark=-&t=DLVCR_STREAMTOKEN_1`,
    },
  });
  b.wsOpen({ t: 60, socket: 1, conversationId: W });
  b.frame(80, 1, W, [act(W, 0, 80, BOT, { type: 'message', text: 'Welcome to the emulator bot!' })], '0');
  b.keepAlive(5080, 1, W).keepAlive(10080, 1, W).keepAlive(15080, 1, W);
  b.http({
    t: 16000,
    route: 'activities.post',
    method: 'POST',
    path: `/conversations/${W}/activities`,
    conversationId: W,
    duration: 40,
    body: { type: 'message', text: LONG_TEXT, from: USER, channelData: { clientActivityID: 'c1' } },
    response: { id: `${W}|0000001` },
  });
  b.frame(16010, 1, W, [act(W, 1, 16010, USER, { type: 'message', text: LONG_TEXT, channelData: { clientActivityID: 'c1' } })], '1');
  b.frame(16020, 1, W, [
    { type: 'typing', id: 'typing-1', from: BOT, conversation: { id: W }, channelId: 'directline', timestamp: ts(16020) },
  ]);
  b.frame(18420, 1, W, [act(W, 2, 18420, BOT, { type: 'message', text: `You said: ${LONG_TEXT}`, replyToId: `${W}|0000001` })], '2');
  b.ping(20060, 1, W);
  b.http({
    t: 21000,
    route: 'activities.post',
    method: 'POST',
    path: `/conversations/${W}/activities`,
    conversationId: W,
    duration: 30,
    body: { type: 'message', text: 'burst 3', from: USER, channelData: { clientActivityID: 'c2' } },
    response: { id: `${W}|0000003` },
  });
  b.frame(21008, 1, W, [act(W, 3, 21008, USER, { type: 'message', text: 'burst 3', channelData: { clientActivityID: 'c2' } })], '3');
  b.frame(21012, 1, W, [
    { type: 'typing', id: 'typing-2', from: BOT, conversation: { id: W }, channelId: 'directline', timestamp: ts(21012) },
  ]);
  b.frame(21100, 1, W, [act(W, 4, 21100, BOT, { type: 'message', text: 'burst 1/3', replyToId: `${W}|0000003` })], '4');
  b.frame(
    21105,
    1,
    W,
    [
      act(W, 5, 21105, BOT, {
        type: 'message',
        text: 'burst 2/3',
        replyToId: `${W}|0000003`,
        attachments: [
          { contentType: 'image/png', name: 'chart.png', contentUrl: `${ORIGIN}/attachments/${W}/0000005/0/chart.png?t=DLVCR_TOKEN_2` },
          { contentType: 'application/vnd.microsoft.card.hero', content: { title: 'A card' } },
        ],
      }),
    ],
    '5',
  );
  b.frame(21110, 1, W, [act(W, 6, 21110, BOT, { type: 'message', text: 'burst 3/3', replyToId: `${W}|0000003` })], '6');
  b.keepAlive(26000, 1, W).keepAlive(31000, 1, W).keepAlive(36000, 1, W).ping(40060, 1, W).keepAlive(41000, 1, W).ping(60060, 1, W);
  b.wsClose({ t: 62000, socket: 1, conversationId: W, by: 'server', code: 1011, reason: 'server closed the stream' });

  // ---- conversation 2: polling (activities without roles: the client's are recognised by the ids it got back)
  const P = POLL_CONV;
  b.http({
    t: 2000,
    route: 'conversations.start',
    method: 'POST',
    path: '/conversations',
    headers: { authorization: 'Bearer DLVCR_SECRET_1' },
    status: 201,
    duration: 50,
    response: {
      conversationId: P,
      token: 'DLVCR_TOKEN_2',
      expires_in: 3600,
      streamUrl: `wss://europe.directline.botframework.com${BASE}/conversations/${P}/stream?watermark=-&t=DLVCR_STREAMTOKEN_1`,
    },
  });
  const get = (t: number, watermark: string, activities: Activity[], next: string) =>
    b.http({
      t,
      route: 'activities.get',
      method: 'GET',
      path: `/conversations/${P}/activities`,
      conversationId: P,
      query: { watermark },
      headers: { authorization: 'Bearer DLVCR_TOKEN_2' },
      response: { activities, watermark: next },
      duration: 20,
    });
  const welcome = act(P, 0, 2040, POLL_BOT, { type: 'message', text: 'Welcome! What pizza would you like?' });
  get(2100, '', [welcome], '0');
  get(3100, '0', [], '0');
  b.http({
    t: 4000,
    route: 'activities.post',
    method: 'POST',
    path: `/conversations/${P}/activities`,
    conversationId: P,
    duration: 1200,
    headers: { authorization: 'Bearer DLVCR_TOKEN_2' },
    body: { type: 'message', text: 'order pizza', from: POLL_USER },
    status: 502,
    response: { error: { code: 'BotError', message: 'Failed to send activity: bot returned an error' }, httpStatusCode: 500 },
  });
  const firstTry = act(P, 1, 4010, POLL_USER, { type: 'message', text: 'order pizza' });
  get(5300, '0', [firstTry], '1');
  b.http({
    t: 6000,
    route: 'activities.post',
    method: 'POST',
    path: `/conversations/${P}/activities`,
    conversationId: P,
    duration: 60,
    headers: { authorization: 'Bearer DLVCR_TOKEN_2' },
    body: { type: 'message', text: 'margherita please', from: POLL_USER },
    response: { id: `${P}|0000002` },
  });
  const order = act(P, 2, 6010, POLL_USER, { type: 'message', text: 'margherita please' });
  const reply = act(
    P,
    3,
    6050,
    { ...POLL_BOT, role: 'bot' },
    { type: 'message', text: 'One margherita, coming up.', replyToId: `${P}|0000002` },
  );
  get(6300, '1', [order, reply], '3');
  get(7300, '1', [reply], '3'); // the same activity again (a client re-polling an old watermark)
  b.http({
    t: 8000,
    route: 'tokens.refresh',
    method: 'POST',
    path: '/tokens/refresh',
    conversationId: P,
    duration: 3,
    headers: { authorization: 'Bearer DLVCR_TOKEN_2' },
    error: { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 20.1.2.3:443' },
  });
  return b;
}
