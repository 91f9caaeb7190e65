// Public option and handle types of the emulator (re-exported by index.ts).

export interface EmulatorOptions {
  /** Default 0 (random free port). */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default '/v3/directline'; the emulator can serve under another prefix, e.g. '/custom/dl'. */
  basePath?: string;
  /** The valid Direct Line secret; default 'emulator-secret-0123456789'. */
  secret?: string;
  /** Interval of empty keep-alive text frames on each stream; default 0 = off. */
  keepAliveMs?: number;
  /** Validity window of the streamUrl's t= token; default 60_000 (the service's 60 s, reference §2.1). */
  streamTokenTtlMs?: number;
  /** Conversation token lifetime; default 3_600_000 (expires_in = 3600, reference §3). */
  tokenTtlMs?: number;
  /** Scripted bot. */
  bot?: BotScript;
  /**
   * Serve https:// and wss:// with this certificate chain (leaf first, then the CA) and key, PEM texts. The
   * origin (and every streamUrl) uses `host` as given, so pass host 'localhost' for a certificate made for it.
   */
  tls?: { cert: string; key: string };
  /**
   * Compress JSON bodies when the request's Accept-Encoding allows it: true = br, else gzip, else deflate; a
   * name = only that coding. The stream then also accepts permessage-deflate. Default false.
   */
  compression?: boolean | 'gzip' | 'br' | 'deflate';
}

export interface BotReplyStep {
  type?: 'message' | 'typing' | 'event' | 'endOfConversation';
  text?: string;
  /** Delay after the previous step (the first step: after the bot was called). */
  delayMs?: number;
  attachments?: unknown[];
  /** Buttons the client shows under the message ({actions:[{type:'imBack', title, value}]}). */
  suggestedActions?: unknown;
  /** Channel-specific payload of the activity (free-form JSON). */
  channelData?: unknown;
  speak?: string;
  inputHint?: string;
  value?: unknown;
  /**
   * Makes the step part of a Web Chat livestream (docs/LIVESTREAMING.md in BotFramework-WebChat): the bot
   * adds channelData { streamType, streamSequence (1, 2, … on interim steps), streamId: the id the emulator
   * gave the first activity of the stream (absent on that first one) }. Interim steps are `typing`, the
   * 'final' step a `message`; after a final step the next livestream step opens a new stream.
   */
  livestream?: 'informative' | 'streaming' | 'final';
}

/** How a bot changed since a recording (changedBot): keyed by the user's message text, trimmed. */
export interface BotChanges {
  /** These messages get these steps instead of the default reply (a changed text, a changed card). */
  replies?: Record<string, BotReplyStep[]>;
  /** These messages get their default reply without its last message (one message fewer). */
  fewerOn?: string[];
  /** On these messages the bot fails: the POST answers 502 BotError with httpStatusCode 500. */
  failOn?: string[];
  welcome?: BotReplyStep[];
  postDelayMs?: number;
}

export interface BotScript {
  /** Sent when a conversation starts (after the invisible conversationUpdate). Default: one 'Welcome to the emulator bot!' message. */
  welcome?: BotReplyStep[];
  /**
   * Called for every user activity (message, upload, event, typing, ...). Default: messages get typing,
   * then 'You said: <text>' after 150 ms; 'burst N' → N messages 'burst i/N' 5 ms apart; 'slow' → the reply
   * after 600 ms; 'stream' → a livestream (livestreamReply(): LIVESTREAM_CHUNKS growing typing chunks 50–80 ms
   * apart, then the final message with LIVESTREAM_TEXT); 'end' → endOfConversation; messages with attachments →
   * 'Received N attachment(s)';
   * other activity types get no reply. A reply function that throws makes the POST answer 502 BotError
   * (the echo is still stored and delivered).
   */
  // `any` because activities are free-form JSON.
  reply?: (userActivity: any) => BotReplyStep[];
  /** How long POST …/activities (and …/upload) takes before answering; the bot is called synchronously (§1.3 (5)). Default 20. */
  postDelayMs?: number;
}

export type FailRoute =
  | 'tokens.generate'
  | 'tokens.refresh'
  | 'conversations.start'
  | 'conversations.reconnect'
  | 'activities.post'
  | 'activities.get'
  | 'upload';

export interface RequestLogEntry {
  method: string;
  /** Path including the query string. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** TLS mode: the SNI name the client sent. */
  servername?: string;
  /** The Content-Encoding of the answer (set when it was sent compressed). */
  responseEncoding?: string;
  /** Upgrades: the extensions negotiated for the socket ('permessage-deflate…' or ''). */
  wsExtensions?: string;
}

export interface Emulator {
  /** Origin only, e.g. 'http://127.0.0.1:PORT' (https://localhost:PORT in TLS mode). */
  url: string;
  /** url + basePath: what a Direct Line client uses as `domain`. */
  domain: string;
  secret: string;
  /** Closes every socket, cancels pending bot replies and closes the server. */
  close(): Promise<void>;
  /** The next `count` (default 1) requests on `route` get `status` with a Direct Line-shaped body, before anything else happens. */
  failNext(route: FailRoute, status: number, opts?: { count?: number; retryAfter?: string }): void;
  /** The server closes the conversation's socket; default code 1011, reason 'server closed the stream'. */
  dropSocket(conversationId: string, code?: number, reason?: string): void;
  /** Every stream token already issued becomes expired, so the next upgrade with it gets 403. */
  expireStreamTokens(): void;
  /** Conversation ids, in creation order. */
  conversations(): string[];
  /** Every conversation token and stream token issued, in issue order. */
  issuedTokens(): string[];
  /** Every HTTP request received, including OPTIONS preflights and WebSocket upgrades. */
  requests: RequestLogEntry[];
}
