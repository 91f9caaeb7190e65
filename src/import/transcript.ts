// From a Bot Framework `.transcript` (the JSON array of activities the Bot Framework Emulator saves and
// `export --format transcript` writes): the user's activities become the client's posts, the bot's the
// activities the stream delivers, each after the gap between their timestamps (capped, so a transcript taken
// over an hour replays in seconds). Activities are kept as they were, attachments inline or as URLs included.
import type { Cassette } from '../cassette/schema.js';
import type { Activity, ChannelAccount } from '../protocol/types.js';
import { CassetteBuilder } from './cassette-builder.js';
import { ImportError, formatPath, jsonErrorLine } from './import-error.js';
import { SourceLines } from './source-lines.js';

export interface TranscriptImportOptions {
  /** Longest pause kept between two activities, in ms (default 5,000). */
  maxGap?: number;
  /** Pause used where a timestamp is missing (default 1,000 ms). */
  defaultGap?: number;
  createdAt?: Date;
  /** Name put into the cassette's source header (default: the file as given). */
  name?: string;
}

export const DEFAULT_MAX_GAP_MS = 5_000;

/** Activities a client posts (a conversationUpdate is sent by the service, never posted on Direct Line). */
const DELIVERED_USER_TYPES = new Set(['conversationUpdate', 'contactRelationUpdate', 'installationUpdate']);

export function importTranscript(text: string, file: string, opts: TranscriptImportOptions = {}): Cassette {
  const maxGap = opts.maxGap ?? DEFAULT_MAX_GAP_MS;
  const defaultGap = Math.min(opts.defaultGap ?? 1_000, maxGap);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ImportError(file, `not valid JSON (${(err as Error).message}); expected a .transcript: a JSON array of activities`, {
      line: jsonErrorLine(text, err as Error),
    });
  }
  let lines: SourceLines | undefined;
  const fail = (path: PropertyKey[], problem: string): never => {
    lines ??= new SourceLines(text);
    throw new ImportError(file, problem, { line: lines.lineOf(path), path: formatPath(path) });
  };
  if (!Array.isArray(raw)) fail([], 'expected a JSON array of activities (a Bot Framework .transcript)');
  const activities = raw as unknown[];
  if (activities.length === 0) fail([], 'the transcript has no activities');

  // Who is who: roles as the file gives them, and for activities without one, the role their from.id has elsewhere.
  const roleOfId = new Map<string, 'user' | 'bot'>();
  activities.forEach((a, i) => {
    if (!a || typeof a !== 'object' || Array.isArray(a)) fail([i], `expected an activity object, found ${describeValue(a)}`);
    const act = a as Activity;
    if (typeof act.type !== 'string' || act.type === '') fail([i, 'type'], 'expected the activity type, a string such as "message"');
    if (act.from !== undefined && (!act.from || typeof act.from !== 'object'))
      fail([i, 'from'], 'expected an account object {id, name, role}');
    const role = act.from?.role;
    if (role !== undefined && role !== 'user' && role !== 'bot')
      fail([i, 'from', 'role'], `expected "user" or "bot", found ${JSON.stringify(role)}`);
    if ((role === 'user' || role === 'bot') && typeof act.from?.id === 'string') roleOfId.set(act.from.id, role);
    if (act.timestamp !== undefined && (typeof act.timestamp !== 'string' || Number.isNaN(Date.parse(act.timestamp)))) {
      fail([i, 'timestamp'], `expected an ISO 8601 time such as "2026-01-31T12:00:00.000Z", found ${JSON.stringify(act.timestamp)}`);
    }
  });
  const roleOf = (a: Activity, i: number): 'user' | 'bot' => {
    const role = (a.from?.role as 'user' | 'bot' | undefined) ?? (typeof a.from?.id === 'string' ? roleOfId.get(a.from.id) : undefined);
    if (role) return role;
    if (a.type === 'conversationUpdate') return 'user';
    return fail([i, 'from'], 'cannot tell whether the user or the bot sent this activity: expected from.role "user" or "bot"');
  };

  const typed = activities as Activity[];
  const firstOf = (role: 'user' | 'bot'): ChannelAccount | undefined =>
    typed.find((a, i) => a.from && a.type !== 'conversationUpdate' && roleOf(a, i) === role)?.from;
  const firstTime = typed.map((a) => (a.timestamp ? Date.parse(a.timestamp) : NaN)).find((t) => !Number.isNaN(t));
  const conversationId = typed
    .map((a) => (a.conversation as { id?: unknown } | undefined)?.id)
    .find((id): id is string => typeof id === 'string' && id !== '');
  const builder = new CassetteBuilder({
    source: { kind: 'import', from: 'transcript', file: opts.name ?? file },
    seed: text,
    conversationId,
    createdAt: opts.createdAt ?? (firstTime !== undefined ? new Date(firstTime) : undefined),
    bot: pickAccount(firstOf('bot')),
    user: pickAccount(firstOf('user')),
  });

  let previous: number | undefined;
  typed.forEach((activity, i) => {
    const at = activity.timestamp ? Date.parse(activity.timestamp) : undefined;
    const delay = i === 0 ? 0 : at !== undefined && previous !== undefined ? Math.min(maxGap, Math.max(0, at - previous)) : defaultGap;
    if (at !== undefined) previous = at;
    const a = structuredClone(activity);
    if (roleOf(activity, i) === 'bot') builder.botSays(a, { delay });
    else if (DELIVERED_USER_TYPES.has(a.type!)) builder.deliver(a, { delay });
    else builder.userSays(a, { delay });
  });
  return builder.build();
}

function pickAccount(a: ChannelAccount | undefined): ChannelAccount | undefined {
  if (!a || typeof a.id !== 'string') return undefined;
  return { id: a.id, ...(typeof a.name === 'string' ? { name: a.name } : {}) };
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'string' ? `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}` : `a ${typeof v}`;
}
