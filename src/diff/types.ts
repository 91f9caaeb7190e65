// The vocabulary of `diff` and `verify`: a cassette seen as conversations of turns, and what differs
// between two of them. Everything here is plain JSON (the --json output is this structure).

/** A bot (or user) activity reduced to what a conversation means: no ids, timestamps or tokens. */
export interface ActivityView {
  type: string;
  text?: string;
  speak?: string;
  inputHint?: string;
  /** Event and invoke activities are told apart by name. */
  name?: string;
  attachments?: unknown[];
  suggestedActions?: unknown;
  channelData?: unknown;
  value?: unknown;
}

/** A user activity and the bot activities it caused; turn 0 is the conversation start (the welcome). */
export interface Turn {
  /** 0 = the start of the conversation, then 1, 2, … for each activity the user sent. */
  index: number;
  /** What caused it: the start of the conversation, a posted activity, or an upload. */
  cause: 'start' | 'post' | 'upload';
  /** The user's activity as sent (for an upload: as echoed, with its files' names and types). */
  user: ActivityView | null;
  /** HTTP status of the request that caused the turn; null when the upstream could not be reached. */
  status: number | null;
  /** The Direct Line error code of a failed request (`BotError`), when its body carried one. */
  errorCode?: string;
  /** Bot activities the turn caused, in the order they reached the client. */
  replies: ActivityView[];
  /** Milliseconds from the request to the first reply (null without replies). */
  firstReplyMs: number | null;
}

/** One conversation of a cassette, read as turns. */
export interface ConversationTurns {
  /** Position among the cassette's conversations (0-based, in order of their first event). */
  ordinal: number;
  /** How its activities reached the client: a WebSocket stream, polling, both, or neither. */
  delivery: 'stream' | 'polling' | 'both' | 'none';
  /** Status of the requests around the turns, by route, in order (token, start, reconnect, stream handshake, polls). */
  exchanges: Record<string, number[]>;
  turns: Turn[];
}

/** What `diff` compares: each conversation of a cassette. */
export interface CassetteTurns {
  /** File name, when read from a file (for reports). */
  source?: string;
  conversations: ConversationTurns[];
}

export type TextMode = 'exact' | 'ignore' | 'similar';

export interface DiffOptions {
  /** JSON paths (redaction syntax) of fields to leave out, from the activity or from `activities[*]`. */
  ignore?: string[];
  /** Report turns whose first-reply gap changed by more than this many milliseconds; off when undefined. */
  timingMs?: number;
  /** How bot texts (`text`, `speak`) compare; default exact. */
  text?: TextMode;
  /** With text 'similar': the least similarity (0..1) still counted as equal; default SIMILAR_TEXT_THRESHOLD. */
  similarity?: number;
}

/** One field that differs; `a`/`b` are undefined when the field is missing on that side. */
export interface FieldChange {
  /** Where in the turn: `status`, `replies[1].text`, `replies[0].attachments[0].content.body[2].text`, `timing.firstReplyMs`. */
  path: string;
  a?: unknown;
  b?: unknown;
}

export type Verdict = 'same' | 'changed' | 'added' | 'missing';

export interface TurnDiff {
  /** Turn index in A (missing/changed/same) and in B (added/changed/same). */
  turnA: number | null;
  turnB: number | null;
  /** A short name for people and JUnit: `turn 2 "hello"`. */
  label: string;
  verdict: Verdict;
  changes: FieldChange[];
}

export interface ConversationDiff {
  ordinalA: number | null;
  ordinalB: number | null;
  verdict: Verdict;
  /** Changes outside the turns (statuses of token, start, stream and poll requests). */
  changes: FieldChange[];
  turns: TurnDiff[];
}

export interface DiffSummary {
  conversations: { a: number; b: number };
  turns: { a: number; b: number; same: number; changed: number; added: number; missing: number };
}

export interface CassetteDiff {
  equal: boolean;
  a: { source?: string };
  b: { source?: string };
  summary: DiffSummary;
  conversations: ConversationDiff[];
  /** The options the comparison used (text mode, threshold, ignore paths, timing). */
  options: { text: TextMode; similarity: number; ignore: string[]; timingMs: number | null };
}
