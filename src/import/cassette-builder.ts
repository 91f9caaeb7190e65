// Builds a cassette from a conversation described step by step (the bot says, the user says, a file is
// attached), laid out the way the recorder writes a real one, so that replay, inspect and export cannot tell
// the difference: tokens.generate → conversations.start with a streamUrl → ws.open, then one server frame per
// bot activity (an ActivitySet, with the service's watermark except on typing), each user message as an
// activities.post answered with its id and echoed on the stream, files as recorded `attachment` GETs on the
// (synthetic) upstream, and every token a redaction placeholder. Every importer (transcript, chat, script)
// goes through here.
import { createHash } from 'node:crypto';
import type { Cassette, CassetteEvent, CassetteSource, HttpEvent } from '../cassette/schema.js';
import { Route } from '../protocol/routes.js';
import { CASSETTE_VERSION } from '../cassette/schema.js';
import type { Activity, ChannelAccount } from '../protocol/types.js';
import { TOOL_NAME, TOOL_VERSION } from '../version.js';

/**
 * The upstream an imported cassette pretends to have been recorded from. `.invalid` can never resolve, so
 * nothing ever tries to reach it; replay points its URLs (streamUrl, attachments) at itself.
 */
export const IMPORT_ORIGIN = 'https://import.directline-vcr.invalid';
export const IMPORT_BASE_PATH = '/v3/directline';

const SECRET = 'DLVCR_SECRET_1';
const GENERATED_TOKEN = 'DLVCR_TOKEN_1';
const CONVERSATION_TOKEN = 'DLVCR_TOKEN_2';
const STREAM_TOKEN = 'DLVCR_STREAMTOKEN_1';
const JSON_HEADERS = { 'cache-control': 'no-cache', 'content-type': 'application/json; charset=utf-8' };
/** How long the synthetic service takes: to answer a request, and to echo a post on the stream. */
const LATENCY_MS = 20;
const ECHO_MS = 5;

export const DEFAULT_BOT: ChannelAccount = { id: 'bot', name: 'Bot', role: 'bot' };
export const DEFAULT_USER: ChannelAccount = { id: 'user', name: 'You', role: 'user' };

export interface BuilderOptions {
  source: CassetteSource;
  /** Makes ids repeatable: the same input builds the same cassette (createdAt aside). */
  seed: string;
  /** Default: derived from the seed. */
  conversationId?: string;
  createdAt?: Date;
  bot?: ChannelAccount;
  user?: ChannelAccount;
}

export interface StepTiming {
  /** Milliseconds after the previous step (for the first bot activities: after the client opened the stream). */
  delay?: number;
}

export class CassetteBuilder {
  readonly conversationId: string;
  readonly bot: ChannelAccount;
  readonly user: ChannelAccount;
  private readonly events: CassetteEvent[] = [];
  private readonly createdAt: Date;
  private readonly usedIds = new Set<string>();
  private readonly files = new Map<string, { path: string; bytes: Buffer; contentType: string; written: boolean }>();
  private seq = 0;
  private clock = 0;

  constructor(private readonly opts: BuilderOptions) {
    this.conversationId = opts.conversationId ?? `imported-${sha256(opts.seed).slice(0, 12)}`;
    this.createdAt = opts.createdAt ?? new Date();
    this.bot = { ...DEFAULT_BOT, ...opts.bot, role: 'bot' };
    this.user = { ...DEFAULT_USER, ...opts.user, role: 'user' };
    this.openConversation();
  }

  /** Time passes with nothing on the wire. */
  wait(ms: number): void {
    this.clock += Math.max(0, ms);
  }

  /** A bot activity delivered on the stream `delay` ms after the previous step. Returns its id. */
  botSays(activity: Activity, timing: StepTiming = {}): string {
    this.wait(timing.delay ?? 0);
    const a = this.stamp({ ...activity }, this.bot);
    if (a.recipient === undefined) a.recipient = { ...this.user };
    this.frame(a);
    return a.id!;
  }

  /**
   * An activity delivered as the service sends it, `from` and all as given (a transcript's conversationUpdate,
   * which no Direct Line client posts).
   */
  deliver(activity: Activity, timing: StepTiming = {}): string {
    this.wait(timing.delay ?? 0);
    const a = this.stamp({ ...activity }, this.user);
    this.frame(a);
    return a.id!;
  }

  /**
   * The client posts an activity `delay` ms after the previous step: an activities.post answered with the
   * activity's id, and (except for typing) its echo on the stream. Returns the id.
   */
  userSays(activity: Activity, timing: StepTiming = {}): string {
    this.wait(timing.delay ?? 0);
    const echo = this.stamp({ ...activity }, this.user);
    const t = this.clock;
    const body: Activity = { ...echo, from: { id: echo.from?.id ?? this.user.id, ...(echo.from?.name ? { name: echo.from.name } : {}) } };
    for (const k of ['id', 'timestamp', 'localTimestamp', 'channelId', 'conversation', 'recipient', 'serviceUrl', 'replyToId'])
      delete body[k];
    this.http(Route.activitiesPost, 'POST', `${this.conversationPath()}/activities`, CONVERSATION_TOKEN, body, 200, { id: echo.id });
    if (echo.type !== 'typing') {
      this.clock = t + ECHO_MS;
      this.frame(echo);
    }
    return echo.id!;
  }

  /**
   * A file the bot hands out: its URL on the synthetic upstream, served by replay from the cassette (a recorded
   * `attachment` GET, written after the first frame that carries the URL).
   */
  attachmentUrl(bytes: Buffer, contentType: string, name: string): string {
    const hash = sha256(bytes).slice(0, 16);
    const key = `${hash}/${name}`;
    let file = this.files.get(key);
    if (!file) {
      file = { path: `/attachments/${hash}/${encodeURIComponent(name)}`, bytes, contentType, written: false };
      this.files.set(key, file);
    }
    return IMPORT_ORIGIN + file.path;
  }

  build(): Cassette {
    return {
      version: CASSETTE_VERSION,
      tool: { name: TOOL_NAME, version: TOOL_VERSION },
      createdAt: this.createdAt.toISOString(),
      source: this.opts.source,
      upstream: { origin: IMPORT_ORIGIN, basePath: IMPORT_BASE_PATH },
      events: this.events.map((e) => structuredClone(e)),
      redaction: {
        placeholders: { [SECRET]: 'secret', [GENERATED_TOKEN]: 'token', [CONVERSATION_TOKEN]: 'token', [STREAM_TOKEN]: 'streamToken' },
      },
    };
  }

  // ---- the wire ---------------------------------------------------------------------------------

  /** What a Web Chat page or botframework-directlinejs does first: a token, a conversation, its stream. */
  private openConversation(): void {
    const id = this.conversationId;
    this.http(Route.tokensGenerate, 'POST', `${IMPORT_BASE_PATH}/tokens/generate`, SECRET, null, 200, {
      conversationId: id,
      token: GENERATED_TOKEN,
      expires_in: 3600,
    });
    this.wait(LATENCY_MS);
    const stream = `${this.conversationPath()}/stream`;
    const wsOrigin = IMPORT_ORIGIN.replace(/^http/, 'ws');
    this.http(Route.conversationsStart, 'POST', `${IMPORT_BASE_PATH}/conversations`, GENERATED_TOKEN, null, 201, {
      conversationId: id,
      token: CONVERSATION_TOKEN,
      expires_in: 3600,
      streamUrl: `${wsOrigin}${stream}?watermark=-&t=${STREAM_TOKEN}`,
    });
    this.wait(LATENCY_MS);
    this.events.push({
      type: 'ws.open',
      t: this.clock,
      conversationId: id,
      socket: 0,
      path: stream,
      query: { watermark: '-', t: STREAM_TOKEN },
      status: 101,
    });
  }

  private conversationPath(): string {
    return `${IMPORT_BASE_PATH}/conversations/${encodeURIComponent(this.conversationId)}`;
  }

  private http(
    route: HttpEvent['route'],
    method: string,
    path: string,
    bearer: string,
    body: unknown,
    status: number,
    answer: unknown,
  ): void {
    const headers: Record<string, string> = { authorization: `Bearer ${bearer}` };
    if (body !== null) headers['content-type'] = 'application/json';
    this.events.push({
      type: 'http',
      t: this.clock,
      conversationId: this.conversationId,
      route,
      request: { method, path, query: {}, headers, body: body === null ? null : { json: body } },
      response: { status, headers: { ...JSON_HEADERS }, body: { json: answer } },
      duration: LATENCY_MS,
    });
  }

  /** One server frame with one activity: the service's watermark is its position, typing carries none. */
  private frame(a: Activity): void {
    const set: Record<string, unknown> = { activities: [a] };
    if (a.type !== 'typing') set.watermark = String(this.seq - 1);
    this.events.push({
      type: 'ws.message',
      t: this.clock,
      conversationId: this.conversationId,
      socket: 0,
      from: 'server',
      data: { json: set },
    });
    this.fetchHandedOut(a);
  }

  /** The GET a client makes for each file the frame hands out (first time only), as the recorder records it. */
  private fetchHandedOut(a: Activity): void {
    const text = JSON.stringify(a);
    for (const file of this.files.values()) {
      if (file.written || !text.includes(JSON.stringify(IMPORT_ORIGIN + file.path).slice(1, -1))) continue;
      file.written = true;
      this.events.push({
        type: 'http',
        t: this.clock,
        conversationId: this.conversationId,
        route: Route.attachment,
        request: { method: 'GET', path: file.path, query: {}, headers: {}, body: null },
        response: {
          status: 200,
          headers: { 'cache-control': 'max-age=86400', 'content-type': file.contentType },
          body: file.bytes.length ? { base64: file.bytes.toString('base64') } : null,
        },
        duration: LATENCY_MS,
      });
    }
  }

  /** Fills what the service adds to every activity it delivers: id, timestamp, channel, conversation, from. */
  private stamp(a: Activity, defaultFrom: ChannelAccount): Activity {
    a.type ??= 'message';
    const given = typeof a.id === 'string' && a.id !== '' && !this.usedIds.has(a.id) ? a.id : undefined;
    const id = given ?? this.nextId();
    this.seq++;
    this.usedIds.add(id);
    a.id = id;
    a.from = a.from && typeof a.from === 'object' ? { ...a.from, role: a.from.role ?? defaultFrom.role } : { ...defaultFrom };
    a.timestamp = new Date(this.createdAt.getTime() + this.clock).toISOString();
    a.channelId ??= 'directline';
    a.conversation = { id: this.conversationId };
    return a;
  }

  /** The id the next activity without one of its own will get. */
  nextActivityId(): string {
    return this.nextId();
  }

  private nextId(): string {
    let n = this.seq;
    let id = `${this.conversationId}|${String(n).padStart(7, '0')}`;
    while (this.usedIds.has(id)) id = `${this.conversationId}|${String(++n).padStart(7, '0')}`;
    return id;
  }
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
