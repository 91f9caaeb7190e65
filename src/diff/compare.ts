// Compares two cassettes read as turns: conversations in order, turns aligned by what the user did,
// replies aligned inside each turn, and field-level changes of the replies that were paired.
import { formatJsonPath } from '../scan/json-walk.js';
import { align } from './align.js';
import { SIMILAR_TEXT_THRESHOLD, textsMatch } from './text-similarity.js';
import type {
  ActivityView,
  CassetteDiff,
  CassetteTurns,
  ConversationDiff,
  ConversationTurns,
  DiffOptions,
  FieldChange,
  TextMode,
  Turn,
  TurnDiff,
} from './types.js';

/** Texts compared under --text; everything else is compared exactly. */
const TEXT_FIELDS = new Set(['text', 'speak']);

interface Settings {
  text: TextMode;
  similarity: number;
  timingMs: number | null;
}

export function compareTurns(a: CassetteTurns, b: CassetteTurns, opts: DiffOptions = {}): CassetteDiff {
  const s: Settings = {
    text: opts.text ?? 'exact',
    similarity: opts.similarity ?? SIMILAR_TEXT_THRESHOLD,
    timingMs: opts.timingMs ?? null,
  };
  // A conversation without a turn (a lone token request, attachment downloads) says nothing about the bot.
  // Reports number them among the compared ones.
  const ca = a.conversations.filter((c) => c.turns.length > 0).map((c, ordinal) => ({ ...c, ordinal }));
  const cb = b.conversations.filter((c) => c.turns.length > 0).map((c, ordinal) => ({ ...c, ordinal }));
  const conversations: ConversationDiff[] = [];
  // Conversations line up by what their users did, so one extra conversation does not shift the rest.
  const key = (c: ConversationTurns) => c.turns.map(userKey).join('\n');
  const keysB = cb.map(key);
  for (const p of align(ca.map(key), keysB, (x, y) => x === y)) {
    conversations.push(compareConversation(p.a === null ? undefined : ca[p.a], p.b === null ? undefined : cb[p.b], s));
  }
  const turns = { a: 0, b: 0, same: 0, changed: 0, added: 0, missing: 0 };
  for (const c of ca) turns.a += c.turns.length;
  for (const c of cb) turns.b += c.turns.length;
  for (const c of conversations) for (const t of c.turns) turns[t.verdict]++;
  return {
    equal: conversations.every((c) => c.verdict === 'same'),
    a: a.source === undefined ? {} : { source: a.source },
    b: b.source === undefined ? {} : { source: b.source },
    summary: { conversations: { a: ca.length, b: cb.length }, turns },
    conversations,
    options: { text: s.text, similarity: s.similarity, ignore: [...(opts.ignore ?? [])], timingMs: s.timingMs },
  };
}

function compareConversation(a: ConversationTurns | undefined, b: ConversationTurns | undefined, s: Settings): ConversationDiff {
  if (!a || !b) {
    const only = (a ?? b)!;
    const verdict = a ? 'missing' : 'added';
    return {
      ordinalA: a ? a.ordinal : null,
      ordinalB: b ? b.ordinal : null,
      verdict,
      changes: [],
      turns: only.turns.map((t) => ({ turnA: a ? t.index : null, turnB: b ? t.index : null, label: turnLabel(t), verdict, changes: [] })),
    };
  }
  // GET never delivers typing (it is stream-only): when one side polled, typing is not compared.
  const dropTyping = a.delivery !== b.delivery && (a.delivery === 'polling' || b.delivery === 'polling');
  const changes = compareExchanges(a.exchanges, b.exchanges);
  const keyA = a.turns.map(userKey);
  const keyB = b.turns.map(userKey);
  const turns: TurnDiff[] = [];
  for (const p of align(keyA, keyB, (x, y) => x === y)) {
    const ta = p.a === null ? undefined : a.turns[p.a];
    const tb = p.b === null ? undefined : b.turns[p.b];
    if (!ta || !tb) {
      const t = (ta ?? tb)!;
      turns.push({
        turnA: ta ? ta.index : null,
        turnB: tb ? tb.index : null,
        label: turnLabel(t),
        verdict: ta ? 'missing' : 'added',
        changes: [],
      });
      continue;
    }
    const fieldChanges = compareTurn(ta, tb, s, dropTyping);
    turns.push({
      turnA: ta.index,
      turnB: tb.index,
      label: turnLabel(ta),
      verdict: fieldChanges.length ? 'changed' : 'same',
      changes: fieldChanges,
    });
  }
  const verdict = changes.length || turns.some((t) => t.verdict !== 'same') ? 'changed' : 'same';
  return { ordinalA: a.ordinal, ordinalB: b.ordinal, verdict, changes, turns };
}

/**
 * Statuses by route. A route seen on one side only matters when it failed there: how a client receives
 * activities (stream or polls) and how often it reconnects or refreshes is its own choice, not the bot's.
 */
function compareExchanges(a: Record<string, number[]>, b: Record<string, number[]>): FieldChange[] {
  const out: FieldChange[] = [];
  for (const route of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = Object.hasOwn(a, route) ? a[route] : undefined;
    const y = Object.hasOwn(b, route) ? b[route] : undefined;
    if (x && y) {
      if (x.join() !== y.join()) out.push({ path: `exchanges["${route}"]`, a: x, b: y });
    } else if ((x ?? y)!.some((status) => status >= 400)) {
      out.push(x ? { path: `exchanges["${route}"]`, a: x } : { path: `exchanges["${route}"]`, b: y });
    }
  }
  return out;
}

function compareTurn(a: Turn, b: Turn, s: Settings, dropTyping: boolean): FieldChange[] {
  const out: FieldChange[] = [];
  if (userKey(a) !== userKey(b)) diffValue(a.user, b.user, ['user'], s, out, false);
  if (a.status !== b.status) out.push({ path: 'status', a: a.status, b: b.status });
  if (a.errorCode !== b.errorCode) out.push({ path: 'errorCode', a: a.errorCode, b: b.errorCode });
  const ra = dropTyping ? a.replies.filter((r) => r.type !== 'typing') : a.replies;
  const rb = dropTyping ? b.replies.filter((r) => r.type !== 'typing') : b.replies;
  for (const p of align(
    ra,
    rb,
    (x, y) => viewsMatch(x, y, s),
    (x, y) => x.type === y.type,
  )) {
    if (p.equal) continue;
    if (p.a !== null && p.b !== null) diffValue(ra[p.a], rb[p.b], ['replies', p.a], s, out, true);
    else if (p.a !== null) out.push({ path: `replies[${p.a}]`, a: ra[p.a] });
    else out.push({ path: `replies[${p.b}]`, b: rb[p.b!] });
  }
  if (s.timingMs !== null && a.firstReplyMs !== null && b.firstReplyMs !== null && Math.abs(a.firstReplyMs - b.firstReplyMs) > s.timingMs) {
    out.push({ path: 'timing.firstReplyMs', a: round(a.firstReplyMs), b: round(b.firstReplyMs) });
  }
  return out;
}

/** A turn's identity: what the user did (its view, canonical JSON); the start turn is always the start. */
const userKeys = new WeakMap<Turn, string>();
function userKey(t: Turn): string {
  let k = userKeys.get(t);
  if (k === undefined) {
    k = `${t.cause}:${t.user ? canonical(t.user) : ''}`;
    userKeys.set(t, k);
  }
  return k;
}

/** Structure without the texts, for the quick part of a reply comparison. */
const structureKeys = new WeakMap<ActivityView, string>();
function structureKey(v: ActivityView): string {
  let k = structureKeys.get(v);
  if (k === undefined) {
    const { text: _t, speak: _s, ...rest } = v;
    k = canonical(rest);
    structureKeys.set(v, k);
  }
  return k;
}

function viewsMatch(x: ActivityView, y: ActivityView, s: Settings): boolean {
  if (structureKey(x) !== structureKey(y)) return false;
  for (const f of TEXT_FIELDS) {
    const tx = (x as unknown as Record<string, unknown>)[f];
    const ty = (y as unknown as Record<string, unknown>)[f];
    if (tx === undefined && ty === undefined) continue;
    if (typeof tx !== 'string' || typeof ty !== 'string' || !textsMatch(tx, ty, s.text, s.similarity)) return false;
  }
  return true;
}

/** Field-level changes of two JSON values; `top`: the values are activity views (texts follow --text). */
function diffValue(a: unknown, b: unknown, path: Array<string | number>, s: Settings, out: FieldChange[], top: boolean): void {
  if (a === b) return;
  if (isRecord(a) && isRecord(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const x = Object.hasOwn(a, k) ? a[k] : undefined;
      const y = Object.hasOwn(b, k) ? b[k] : undefined;
      if (top && TEXT_FIELDS.has(k) && typeof x === 'string' && typeof y === 'string') {
        if (!textsMatch(x, y, s.text, s.similarity)) out.push({ path: formatJsonPath([...path, k]), a: x, b: y });
        continue;
      }
      if (x === undefined) out.push({ path: formatJsonPath([...path, k]), b: y });
      else if (y === undefined) out.push({ path: formatJsonPath([...path, k]), a: x });
      else diffValue(x, y, [...path, k], s, out, false);
    }
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (i >= a.length) out.push({ path: formatJsonPath([...path, i]), b: b[i] });
      else if (i >= b.length) out.push({ path: formatJsonPath([...path, i]), a: a[i] });
      else diffValue(a[i], b[i], [...path, i], s, out, false);
    }
    return;
  }
  if (canonical(a) !== canonical(b)) out.push({ path: formatJsonPath(path), a, b });
}

function turnLabel(t: Turn): string {
  if (t.cause === 'start') return `turn 0 (conversation start)`;
  const what =
    t.user?.text !== undefined ? JSON.stringify(oneLine(t.user.text)) : t.cause === 'upload' ? 'upload' : (t.user?.type ?? 'activity');
  const files = t.cause === 'upload' && Array.isArray(t.user?.attachments) ? ` with ${t.user!.attachments.length} file(s)` : '';
  return `turn ${t.index} ${what}${files}`;
}

function oneLine(s: string, max = 50): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > max ? flat.slice(0, max - 1) + '…' : flat;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const round = (ms: number) => Math.round(ms);

/** JSON with keys sorted at every level (views are depth-capped when built, so recursion is bounded). */
export function canonical(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  const keys = Object.keys(v).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
}
