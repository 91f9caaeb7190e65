// Hand-built cassettes for the replay tests, shaped like what the recorder writes (redacted bearers and
// tokens, the upstream's original streamUrl with t= redacted, activity ids `<conv>|0000003`, typing on the
// stream only, replies before the POST response). Every cassette is checked with validateCassette.
import type { RouteName } from '../../src/protocol/routes.js';
import { validateCassette } from '../../src/cassette/load.js';
import type { Body, Cassette, CassetteEvent, HttpEvent } from '../../src/cassette/schema.js';
import type { Activity } from '../../src/protocol/types.js';

export const UPSTREAM_ORIGIN = 'http://127.0.0.1:5555';
export const BOT = { id: 'emulator-bot', name: 'Emulator Bot', role: 'bot' };
export const REC_USER = 'dl_recorded-user';
const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache' };

function body(v: unknown): Body {
  return v === undefined || v === null ? null : typeof v === 'string' ? { text: v } : { json: v };
}

export class CassetteBuilder {
  readonly events: CassetteEvent[] = [];
  readonly placeholders: Record<string, string> = {};
  private nextSocket = 0;

  constructor(readonly basePath = '/v3/directline') {}

  placeholder(name: string): string {
    this.placeholders[name] = name.startsWith('DLVCR_STREAMTOKEN') ? 'streamToken' : name.startsWith('DLVCR_SECRET') ? 'secret' : 'token';
    return name;
  }

  socket(): number {
    return this.nextSocket++;
  }

  http(e: {
    t: number;
    conversationId: string | null;
    route: RouteName;
    method: string;
    path: string;
    query?: Record<string, string>;
    bearer?: string;
    requestHeaders?: Record<string, string>;
    requestBody?: unknown;
    status?: number;
    responseHeaders?: Record<string, string>;
    response?: unknown;
    duration: number;
    error?: { code: string; message: string };
    rawRequestBody?: Body;
  }): HttpEvent {
    const headers: Record<string, string> = {
      'x-ms-bot-agent': 'DirectLine/3.0 (directlinejs 0.15.8)',
      'x-requested-with': 'XMLHttpRequest',
      ...e.requestHeaders,
    };
    if (e.bearer) headers.authorization = `Bearer ${this.placeholder(e.bearer)}`;
    if (e.requestBody !== undefined) headers['content-type'] ??= 'application/json';
    const ev: HttpEvent = {
      type: 'http',
      t: e.t,
      conversationId: e.conversationId,
      route: e.route,
      request: {
        method: e.method,
        path: this.basePath + e.path,
        query: e.query ?? {},
        headers,
        body: e.rawRequestBody ?? body(e.requestBody),
      },
      response: e.error ? null : { status: e.status ?? 200, headers: { ...JSON_HEADERS, ...e.responseHeaders }, body: body(e.response) },
      duration: e.duration,
    };
    if (e.error) ev.error = e.error;
    this.events.push(ev);
    return ev;
  }

  build(): Cassette {
    const events = [...this.events].sort((a, b) => a.t - b.t); // stable: same-t events keep insertion order
    return validateCassette(
      {
        version: 1,
        tool: { name: 'directline-vcr', version: '0.1.0' },
        createdAt: '2026-06-12T12:53:39.000Z',
        upstream: { origin: UPSTREAM_ORIGIN, basePath: this.basePath },
        redaction: { placeholders: this.placeholders },
        events,
      },
      '<fixture>',
    );
  }
}

/** Writes one recorded conversation into a builder, with Direct Line-shaped ids and bodies. */
export class ConversationScript {
  private seq = 0;
  private socketNo = -1;
  readonly stored: Array<{ activity: Activity; watermark: string }> = [];

  constructor(
    readonly b: CassetteBuilder,
    readonly id: string,
    readonly userId = REC_USER,
  ) {}

  nextId(): string {
    return `${this.id}|${String(this.seq++).padStart(7, '0')}`;
  }

  streamUrl(watermark: string, t: string): string {
    return `ws://127.0.0.1:5555${this.b.basePath}/conversations/${this.id}/stream?watermark=${watermark}&t=${this.b.placeholder(t)}`;
  }

  generate(t: number, opts: { duration?: number; token?: string } = {}): void {
    this.b.http({
      t,
      conversationId: this.id,
      route: 'tokens.generate',
      method: 'POST',
      path: '/tokens/generate',
      bearer: 'DLVCR_SECRET_1',
      requestBody: { user: { id: this.userId } },
      response: { conversationId: this.id, token: this.b.placeholder(opts.token ?? 'DLVCR_TOKEN_1'), expires_in: 3600 },
      duration: opts.duration ?? 25,
    });
  }

  start(t: number, opts: { bearer?: string; status?: number; duration?: number; token?: string; streamToken?: string } = {}): void {
    this.b.http({
      t,
      conversationId: this.id,
      route: 'conversations.start',
      method: 'POST',
      path: '/conversations',
      bearer: opts.bearer ?? 'DLVCR_TOKEN_1',
      requestBody: { user: { id: this.userId }, locale: 'en-US' },
      status: opts.status ?? 201,
      response: {
        conversationId: this.id,
        token: this.b.placeholder(opts.token ?? 'DLVCR_TOKEN_2'),
        expires_in: 3600,
        streamUrl: this.streamUrl('-', opts.streamToken ?? 'DLVCR_STREAMTOKEN_1'),
        referenceGrammarId: '2ea0374a-1d5c-4b4e-a1f8-6f1b2c7d9e00',
      },
      duration: opts.duration ?? 60,
    });
  }

  reconnect(t: number, watermark: string, opts: { token: string; streamToken: string; duration?: number; bearer?: string }): void {
    this.b.http({
      t,
      conversationId: this.id,
      route: 'conversations.reconnect',
      method: 'GET',
      path: `/conversations/${this.id}`,
      query: { watermark },
      bearer: opts.bearer ?? 'DLVCR_TOKEN_2',
      response: {
        conversationId: this.id,
        token: this.b.placeholder(opts.token),
        expires_in: 3600,
        streamUrl: this.streamUrl(watermark, opts.streamToken),
      },
      duration: opts.duration ?? 30,
    });
  }

  open(t: number, opts: { watermark?: string; streamToken?: string; status?: number; refusal?: unknown } = {}): number {
    const socket = this.b.socket();
    this.socketNo = socket;
    this.b.events.push({
      type: 'ws.open',
      t,
      conversationId: this.id,
      socket,
      path: `${this.b.basePath}/conversations/${this.id}/stream`,
      query: { watermark: opts.watermark ?? '-', t: this.b.placeholder(opts.streamToken ?? 'DLVCR_STREAMTOKEN_1') },
      status: opts.status ?? 101,
      ...(opts.refusal !== undefined
        ? { response: { status: opts.status ?? 403, headers: JSON_HEADERS, body: { json: opts.refusal } } }
        : {}),
    });
    return socket;
  }

  /** A bot activity (not yet delivered anywhere). */
  bot(text: string, extra: Partial<Activity> = {}): Activity {
    return {
      type: 'message',
      id: this.nextId(),
      timestamp: '2026-06-12T12:53:40.1234567Z',
      channelId: 'directline',
      from: BOT,
      conversation: { id: this.id },
      recipient: { id: this.userId, role: 'user' },
      text,
      ...extra,
    };
  }

  typing(): Activity {
    return {
      type: 'typing',
      id: this.nextId(),
      timestamp: '2026-06-12T12:53:40.2Z',
      channelId: 'directline',
      from: BOT,
      conversation: { id: this.id },
    };
  }

  /** A frame on the current socket; a watermark is given for stored activities. */
  frame(t: number, activities: Activity[], watermark?: string): void {
    const set: Record<string, unknown> = { activities };
    if (watermark !== undefined) set.watermark = watermark;
    this.b.events.push({ type: 'ws.message', t, conversationId: this.id, socket: this.socketNo, from: 'server', data: { json: set } });
    if (watermark !== undefined) for (const a of activities) if (a.type !== 'typing') this.stored.push({ activity: a, watermark });
  }

  keepAlive(t: number): void {
    this.b.events.push({ type: 'ws.message', t, conversationId: this.id, socket: this.socketNo, from: 'server', data: { text: '' } });
  }

  clientPing(t: number): void {
    this.b.events.push({ type: 'ws.message', t, conversationId: this.id, socket: this.socketNo, from: 'client', data: { text: '' } });
  }

  close(t: number, by: 'server' | 'client' | 'proxy', code: number, reason = ''): void {
    this.b.events.push({ type: 'ws.close', t, conversationId: this.id, socket: this.socketNo, by, code, reason });
  }

  /** POST .../activities of a user message; returns the echo (the activity the service stores for it). */
  post(
    t: number,
    text: string,
    opts: {
      duration?: number;
      status?: number;
      response?: unknown;
      responseHeaders?: Record<string, string>;
      error?: { code: string; message: string };
      type?: string;
      bearer?: string;
    } = {},
  ): Activity {
    const clientActivityID = `rec-cid-${this.seq}`;
    const sent: Activity = {
      type: opts.type ?? 'message',
      text,
      from: { id: this.userId, name: 'Recorded User', role: 'user' },
      locale: 'en-US',
      channelData: { clientActivityID },
      channelId: 'webchat',
    };
    const id = this.nextId();
    const ok = opts.status === undefined || (opts.status >= 200 && opts.status < 300);
    this.b.http({
      t,
      conversationId: this.id,
      route: 'activities.post',
      method: 'POST',
      path: `/conversations/${this.id}/activities`,
      bearer: opts.bearer ?? 'DLVCR_TOKEN_2',
      requestBody: sent,
      status: opts.status,
      response: opts.response ?? (ok ? { id } : undefined),
      responseHeaders: opts.responseHeaders,
      duration: opts.duration ?? 80,
      error: opts.error,
    });
    return {
      ...sent,
      id,
      timestamp: '2026-06-12T12:53:41.0000001Z',
      channelId: 'directline',
      conversation: { id: this.id },
      serviceUrl: 'https://directline.botframework.com/',
    };
  }

  /** GET .../activities (a poll) answering with these activities and watermark. */
  poll(t: number, watermark: string, activities: Activity[], newWatermark: string | null, duration = 12): void {
    this.b.http({
      t,
      conversationId: this.id,
      route: 'activities.get',
      method: 'GET',
      path: `/conversations/${this.id}/activities`,
      query: { watermark },
      bearer: 'DLVCR_TOKEN_2',
      response: { activities, watermark: newWatermark },
      duration,
    });
  }
}

export const WS_CONV = 'Ab3dEf5hIj7kLm9nOp1rSt-us';
export const POLL_CONV = 'Qw7eRt9yUi1oPa3sDf5gHj-us';

/** Recorded gaps the timing tests measure against. */
export const GAPS = { helloReply: 500, slowReply: 600 };

export interface WsCassetteOptions {
  basePath?: string;
  /** The server closes socket #1 after the conversation (code 4001 'collision'); the client reconnects. */
  serverClose?: boolean;
  /** The first reconnect's handshake is refused with 403 (stale t=), the client reconnects again. */
  refusedHandshake?: boolean;
}

/**
 * One conversation recorded over the WebSocket stream:
 * tokens.generate → conversations.start 201 → ws.open → welcome → keep-alive → POST "hello"
 * (echo, typing, reply 500 ms after the POST, POST response at 300 ms) → POST "burst 3" (echo, burst frames,
 * two activities grouped in one frame) → client ping, keep-alive → POST "slow" (reply 600 ms after it,
 * before its 700 ms POST response).
 */
export function wsCassette(opts: WsCassetteOptions = {}): Cassette {
  const b = new CassetteBuilder(opts.basePath);
  const c = new ConversationScript(b, WS_CONV);
  c.generate(0);
  c.start(40);
  c.open(120);
  c.frame(180, [c.bot('Welcome to the emulator bot!')], '0');
  c.keepAlive(400);
  const hello = c.post(600, 'hello', { duration: 300 });
  c.frame(615, [hello], '1');
  c.frame(630, [c.typing()]);
  c.frame(600 + GAPS.helloReply, [c.bot('You said: hello', { replyToId: hello.id })], '3');
  const burst = c.post(1300, 'burst 3', { duration: 80 });
  c.frame(1310, [burst], '4');
  c.frame(1312, [c.typing()]);
  c.frame(1320, [c.bot('burst 1/3')], '6');
  c.frame(1325, [c.bot('burst 2/3'), c.bot('burst 3/3')], '8');
  c.clientPing(1500);
  c.keepAlive(1700);
  const slow = c.post(2000, 'slow', { duration: 700 });
  c.frame(2010, [slow], '9');
  c.frame(2000 + GAPS.slowReply, [c.bot('slow reply', { replyToId: slow.id })], '10');
  if (opts.serverClose || opts.refusedHandshake) {
    c.close(2900, 'server', 4001, 'collision');
    let t = 3300;
    if (opts.refusedHandshake) {
      c.reconnect(t, '10', { token: 'DLVCR_TOKEN_3', streamToken: 'DLVCR_STREAMTOKEN_2' });
      c.open(t + 50, {
        watermark: '10',
        streamToken: 'DLVCR_STREAMTOKEN_2',
        status: 403,
        refusal: { error: { code: 'TokenExpired', message: 'Token expired' } },
      });
      t += 400;
    }
    c.reconnect(t, '10', {
      token: 'DLVCR_TOKEN_4',
      streamToken: 'DLVCR_STREAMTOKEN_3',
      bearer: opts.refusedHandshake ? 'DLVCR_TOKEN_3' : 'DLVCR_TOKEN_2',
    });
    c.open(t + 50, { watermark: '10', streamToken: 'DLVCR_STREAMTOKEN_3' });
    const after = c.post(t + 200, 'after', { duration: 100, bearer: 'DLVCR_TOKEN_4' });
    c.frame(t + 210, [after], '11');
    c.frame(t + 400, [c.bot('You said: after', { replyToId: after.id })], '12');
    c.keepAlive(t + 600);
    c.close(t + 900, 'client', 1005);
  } else {
    c.close(2900, 'client', 1005);
  }
  return b.build();
}

/** Texts a client of wsCassette() receives, in order (the echoes carry the user's own texts). */
export const WS_TEXTS = [
  'Welcome to the emulator bot!',
  'hello',
  'You said: hello',
  'burst 3',
  'burst 1/3',
  'burst 2/3',
  'burst 3/3',
  'slow',
  'slow reply',
];

/**
 * One conversation recorded by a polling client (no stream, no typing): start 201 with the secret, a first
 * poll returning the welcome, empty polls, POST "hello" whose echo and reply the next poll found 300 ms
 * later, POST "second" likewise.
 */
export function pollingCassette(): Cassette {
  const b = new CassetteBuilder();
  const c = new ConversationScript(b, POLL_CONV);
  c.start(0, { bearer: 'DLVCR_SECRET_1', token: 'DLVCR_TOKEN_2', duration: 50 });
  const welcome = c.bot('Welcome to the emulator bot!');
  c.poll(60, '', [welcome], '0');
  c.poll(1060, '0', [], '0');
  const hello = c.post(1200, 'hello', { duration: 120 });
  const reply = c.bot('You said: hello', { replyToId: hello.id });
  c.poll(1500, '0', [hello, reply], '2');
  c.poll(2500, '2', [], '2');
  const second = c.post(2600, 'second', { duration: 100 });
  const reply2 = c.bot('You said: second', { replyToId: second.id });
  c.poll(3000, '2', [second, reply2], '4');
  return b.build();
}

export const POLL_TEXTS = ['Welcome to the emulator bot!', 'hello', 'You said: hello', 'second', 'You said: second'];

export const ERR_CONV_A = 'Er1aAAAAAAAAAAAAAAAAAA-us';
export const ERR_CONV_B = 'Er2bBBBBBBBBBBBBBBBBBB-us';

/**
 * Recorded failures and status codes: conversation A starts 201 and its sends get 429 (Retry-After),
 * 502 BotError (with httpStatusCode) and an unreachable upstream; conversation B starts with 200; a
 * separate tokens.generate was refused with 403.
 */
export function errorsCassette(): Cassette {
  const b = new CassetteBuilder();
  const a = new ConversationScript(b, ERR_CONV_A);
  a.start(0, { bearer: 'DLVCR_SECRET_1', duration: 40 });
  a.post(100, 'too fast', {
    status: 429,
    responseHeaders: { 'retry-after': '5', 'x-ms-request-id': 'abc' },
    response: { error: { code: 'TooManyRequests', message: 'Too many requests' } },
    duration: 15,
  });
  a.post(200, 'hello', {
    status: 502,
    response: { error: { code: 'BotError', message: 'Failed to send activity: bot returned an error' }, httpStatusCode: 500 },
    duration: 30,
  });
  a.post(300, 'unreachable', { error: { code: 'ECONNREFUSED', message: 'directline-vcr could not reach the upstream' }, duration: 5 });
  b.http({
    t: 400,
    conversationId: null,
    route: 'tokens.generate',
    method: 'POST',
    path: '/tokens/generate',
    bearer: 'DLVCR_SECRET_2',
    status: 403,
    response: { error: { code: 'BadArgument', message: 'Site missing or invalid' } },
    duration: 20,
  });
  const c = new ConversationScript(b, ERR_CONV_B);
  c.start(500, { bearer: 'DLVCR_SECRET_1', status: 200, token: 'DLVCR_TOKEN_3', streamToken: 'DLVCR_STREAMTOKEN_2', duration: 30 });
  b.http({
    t: 600,
    conversationId: ERR_CONV_B,
    route: 'session.getsessionid',
    method: 'GET',
    path: '/session/getsessionid',
    bearer: 'DLVCR_TOKEN_3',
    response: { sessionId: 'recorded-session-id' },
    duration: 10,
  });
  return b.build();
}

/** An upload recorded as multipart (DirectLineJS-style: an activity part and one file part). */
export function uploadCassette(): Cassette {
  const b = new CassetteBuilder();
  const c = new ConversationScript(b, 'UpLoAdAAAAAAAAAAAAAAAA-us');
  c.start(0, { bearer: 'DLVCR_SECRET_1' });
  c.open(100);
  c.frame(150, [c.bot('Welcome')], '0');
  const boundary = '----recordedBoundary123';
  const activity = { type: 'message', text: 'see file', from: { id: REC_USER }, channelData: { clientActivityID: 'rec-up-1' } };
  const multipart = multipartBody(boundary, [
    { name: 'activity', contentType: 'application/vnd.microsoft.activity', body: JSON.stringify(activity) },
    { name: 'file', filename: 'hello.txt', contentType: 'text/plain', body: 'hello file' },
  ]);
  const id = c.nextId();
  b.http({
    t: 300,
    conversationId: c.id,
    route: 'upload',
    method: 'POST',
    path: `/conversations/${c.id}/upload`,
    query: { userId: REC_USER },
    bearer: 'DLVCR_TOKEN_2',
    requestHeaders: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    rawRequestBody: { base64: multipart.toString('base64') },
    response: { id },
    duration: 50,
  });
  c.frame(
    320,
    [
      {
        ...activity,
        id,
        channelId: 'directline',
        conversation: { id: c.id },
        attachments: [{ contentType: 'text/plain', name: 'hello.txt', contentUrl: 'http://127.0.0.1:5555/attachments/x/0' }],
      },
    ],
    '1',
  );
  c.frame(500, [c.bot('Received 1 attachment(s)')], '2');
  return b.build();
}

export function multipartBody(
  boundary: string,
  parts: Array<{ name: string; filename?: string; contentType: string; body: string }>,
): Buffer {
  let out = '';
  for (const p of parts) {
    out +=
      `--${boundary}\r\nContent-Disposition: form-data; ` +
      `name="${p.name}"${p.filename ? `; filename="${p.filename}"` : ''}\r\nContent-Type: ${p.contentType}\r\n\r\n${p.body}\r\n`;
  }
  out += `--${boundary}--\r\n`;
  return Buffer.from(out, 'utf8');
}
