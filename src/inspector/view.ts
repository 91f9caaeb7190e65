// The data the inspector page gets, as JSON: a view of the cassette read model (conversations, their rows
// on a time axis, lanes, causes, the activities the user saw) plus, in live mode, what a running replay
// observed. Types only: the server (build-view.ts, live-replay.ts) fills them, the page (page/) reads them.

export type RowKind =
  | 'http'
  | 'open'
  | 'frame'
  | 'keepalive'
  | 'ping'
  | 'close'
  // live replay observations
  | 'session'
  | 'match'
  | 'release'
  | 'mismatch';

export interface InspectorView {
  /** Shown in the page title. */
  title: string;
  /** null for `inspect --web`; 'record' / 'replay' when served live by a running server. */
  live: 'record' | 'replay' | null;
  /** Whether the page can load Web Chat from ./webchat.js (botframework-webchat is installed). */
  webChat: boolean;
  cassettes: CassetteView[];
  conversations: ConversationView[];
  rows: RowView[];
}

export interface CassetteView {
  index: number;
  name: string;
  createdAt: string;
  upstream: string;
  /** Placeholder → kind (secret, token, streamToken, custom), from the cassette's own table. */
  placeholders: Record<string, string>;
  events: number;
}

export interface LaneView {
  /** 'http' or `socket <n>`. */
  label: string;
  /** Socket ordinal in the conversation (1 = first stream, 2 = the first reconnect…); 0 for the HTTP lane. */
  ordinal: number;
  /** Lifetime on the time axis (ms): open → close (null: still open / never closed). */
  from: number;
  to: number | null;
  /** How it ended, e.g. 'closed 1000 by client'. */
  end?: string;
}

export interface ConversationView {
  /** Unique in the view: `<cassette index>/<conversation id or '-'>`, or `live/<session n>` for a replay session. */
  key: string;
  cassette: number;
  id: string | null;
  label: string;
  /** Time range of its rows (ms since its cassette started; live sessions: since the replay started). */
  start: number;
  end: number;
  lanes: LaneView[];
  /** How many activities the user saw (GET api/chat?conversation=<key> has them). */
  chat: number;
  live?: boolean;
}

/** One activity the client received (duplicates from poll + stream removed): the chat as the user saw it. */
export interface ChatActivity {
  id?: string;
  type: string;
  role: 'user' | 'bot' | string;
  name?: string;
  text?: string;
  timestamp?: string;
  /** Cards and files: content type, title/text of a card, the URL of an image. */
  attachments?: Array<{ contentType: string; name?: string; title?: string; text?: string; url?: string }>;
  suggestedActions?: string[];
  /** The recorded activity as JSON (placeholders in it), for Web Chat. */
  raw: unknown;
  /** Row that delivered it. */
  row: string;
}

export interface RowView {
  /** Stable across live updates. */
  key: string;
  conversation: string;
  t: number;
  kind: RowKind;
  /** Lane index into the conversation's lanes (0 = HTTP). */
  lane: number;
  /** 'up' = client → service, 'down' = service → client, null = neither (a close by the proxy, a live note). */
  dir: 'up' | 'down' | null;
  /** One line, plain text. */
  text: string;
  route?: string;
  method?: string;
  status?: number | null;
  /** HTTP: request → response (ms). */
  duration?: number;
  /** Activity types it carries (for the filter), e.g. ['message']. */
  types: string[];
  /** Key of the row whose client action caused this one (the cause replay waits for), and the wait after it. */
  cause?: string;
  wait?: number;
  /** A client action bot activities react to: a turn, for keyboard navigation. */
  turn?: boolean;
  /** Shown in red. */
  error?: boolean;
  /** Live replay: the recorded row this one matched or released. */
  recorded?: string;
  /** Extra detail that is not a cassette event (live replay: received vs expected). */
  note?: Record<string, unknown>;
}

/** GET api/detail?row=<key>: what the details panel shows. */
export interface RowDetail {
  key: string;
  /** The cassette event (placeholders in it), or null for a live observation. */
  event: unknown;
  note?: Record<string, unknown>;
  placeholders: Record<string, string>;
}

/** Server-Sent Events on api/live: the first message is a full view, later ones what changed. */
export type LiveMessage =
  | { type: 'snapshot'; view: InspectorView }
  | { type: 'update'; conversations: ConversationView[]; rows: RowView[]; cassettes: CassetteView[] };
