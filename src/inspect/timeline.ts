// A timeline a person can follow: per conversation, every HTTP exchange and stream frame in time order,
// with keep-alives and client pings folded, and the pauses a replay would wait made visible.
import { STATUS_CODES } from 'node:http';
import type { Cassette, CassetteEvent, HttpEvent, WsCloseEvent, WsMessageEvent, WsOpenEvent } from '../cassette/schema.js';
import { isBlankFrame, readModel, type CassetteModel, type ConversationEvent } from '../model/index.js';
import { Route, routePolicy, stripBase } from '../protocol/routes.js';
import { isActivitySet, type Activity } from '../protocol/types.js';
import { displayGroups, oneLine, selectGroups, summarizeActivity, type ActivitySummary } from './activities.js';
import { palette, type Palette } from './ansi.js';

export type Direction = 'client→upstream' | 'upstream→client' | 'proxy';

export type TimelineRowKind = 'http' | 'ws.open' | 'ws.frame' | 'ws.close' | 'keepalive' | 'ping' | 'gap';

/** One line (or one block) of the timeline. `text` is the plain rendering without the time column. */
export interface TimelineRow {
  kind: TimelineRowKind;
  conversationId: string | null;
  /** Milliseconds since the cassette started (first frame, for folded rows). */
  t: number;
  /** `t` as printed, e.g. `+1.234s`. */
  at: string;
  direction: Direction | null;
  /** Indices in cassette.events of the events this row stands for. */
  events: number[];
  /** Words the `types` filter matches: http, ws, the route, activity types, keepalive, ping, open, close, error, fault. */
  tags: string[];
  text: string;
  // http
  method?: string;
  route?: string;
  /** Request path below the upstream base path, with the query (t= left out). */
  path?: string;
  status?: number | null;
  duration?: number;
  error?: string;
  // ws
  socket?: number;
  watermark?: string | null;
  activities?: ActivitySummary[];
  /** Folded frames: how many, and the time from the first to the last (ms). */
  count?: number;
  span?: number;
  closedBy?: 'server' | 'client' | 'proxy';
  code?: number;
  reason?: string;
  /** Frames that carry no ActivitySet: what they hold, in short. */
  note?: string;
  /** Gap rows: the pause before the next upstream frame (ms). */
  gap?: number;
  /** The fault rule directline-vcr injected here while recording (the client saw this, the upstream did not send it). */
  fault?: string;
}

export interface TimelineOptions {
  color?: boolean;
  /** Only this conversation (exact id, or a prefix of one). */
  conversation?: string;
  /**
   * Keep rows tagged with any of these: http, ws, message, typing, event, endOfConversation, keepalive, ping, open, close,
   * error, or a route name.
   */
  types?: string[];
  /** Return the rows instead of text. */
  json?: boolean;
  /** A pause longer than this before an upstream frame gets its own line (ms, default 1000). */
  gapMs?: number;
  /** Characters of activity text shown (default 60). */
  textWidth?: number;
}

export function renderTimeline(cassette: Cassette, opts: TimelineOptions & { json: true }): TimelineRow[];
export function renderTimeline(cassette: Cassette, opts?: TimelineOptions & { json?: false }): string;
export function renderTimeline(cassette: Cassette, opts?: TimelineOptions): string | TimelineRow[];
export function renderTimeline(cassette: Cassette, opts: TimelineOptions = {}): string | TimelineRow[] {
  const groups = buildTimeline(cassette, opts);
  if (opts.json) return groups.flatMap((g) => g.rows);
  const pal = palette(Boolean(opts.color) && !opts.json);
  const lines: string[] = [];
  const last = cassette.events.length ? cassette.events[cassette.events.length - 1].t : 0;
  lines.push(
    pal.bold(`Cassette ${cassette.createdAt}`) +
      pal.dim(
        `  ${cassette.upstream.origin}${cassette.upstream.basePath}  ·  ${plural(cassette.events.length, 'event')} over ${seconds(last)}`,
      ),
  );
  if (groups.length === 0) lines.push(pal.dim(opts.conversation ? `  no conversation matches "${opts.conversation}"` : '  no events'));
  for (const g of groups) {
    lines.push('');
    lines.push(pal.bold(g.conversationId === null ? 'No conversation' : `Conversation ${g.conversationId}`) + pal.dim(`  ${g.summary}`));
    if (g.rows.length === 0) lines.push(pal.dim('  (no rows match the filter)'));
    for (const row of g.rows) lines.push(...formatRow(row, pal, g.conversationId, opts.textWidth ?? 60, true));
  }
  return lines.join('\n') + '\n';
}

export interface TimelineGroup {
  conversationId: string | null;
  /** e.g. `websocket, 1 socket · 3 http requests · 19 frames · from +0.000s to +62.000s` */
  summary: string;
  rows: TimelineRow[];
}

/** The rows of the timeline, grouped per conversation in order of first appearance. */
export function buildTimeline(cassette: Cassette, opts: TimelineOptions = {}): TimelineGroup[] {
  const model = readModel(cassette);
  const wanted = selectGroups(displayGroups(model), opts.conversation);
  const types = opts.types?.length ? new Set(opts.types.map((t) => t.toLowerCase())) : null;
  const gapMs = opts.gapMs ?? 1000;
  const textWidth = opts.textWidth ?? 60;

  const groups: TimelineGroup[] = [];
  for (const { conversationId, events } of wanted) {
    // Gaps come from the whole conversation; one survives the filter only with the row it precedes.
    let rows = withGaps(eventRows(events, conversationId, model, textWidth), gapMs);
    if (types) {
      const keep = (r: TimelineRow) => r.tags.some((t) => types.has(t.toLowerCase()));
      rows = rows.filter((r, i) => (r.kind === 'gap' ? i + 1 < rows.length && keep(rows[i + 1]) : keep(r)));
    }
    for (const r of rows) r.text = formatRow(r, palette(false), conversationId, textWidth, false).join('\n');
    groups.push({ conversationId, summary: summarize(events.map((x) => x.event)), rows });
  }
  return groups;
}

function summarize(events: CassetteEvent[]): string {
  const http = events.filter((e) => e.type === 'http').length;
  const sockets = new Set(events.filter((e): e is WsOpenEvent => e.type === 'ws.open').map((e) => e.socket));
  const frames = events.filter((e) => e.type === 'ws.message').length;
  const polls = events.filter((e) => e.type === 'http' && routePolicy(e.route).replay === 'activityLog').length;
  const mode = sockets.size ? `websocket, ${plural(sockets.size, 'socket')}` : polls ? 'polling' : 'no stream';
  const parts = [mode, plural(http, 'http request')];
  if (frames) parts.push(plural(frames, 'frame'));
  if (events.length) parts.push(`from ${at(events[0].t)} to ${at(events[events.length - 1].t)}`);
  return parts.join(' · ');
}

// ---------------------------------------------------------------------------------------------- rows

interface Fold {
  socket: number;
  first: number;
  last: number;
  count: number;
  events: number[];
}

function eventRows(events: ConversationEvent[], conversationId: string | null, model: CassetteModel, textWidth: number): TimelineRow[] {
  const cassette = model.cassette;
  const rows: TimelineRow[] = [];
  // Keep-alives and pings of each socket collect while nothing else happens in the conversation.
  const keepAlives = new Map<number, Fold>();
  const pings = new Map<number, Fold>();
  const flush = () => {
    const folds = [
      ...[...keepAlives.values()].map((f) => ({ f, kind: 'keepalive' as const })),
      ...[...pings.values()].map((f) => ({ f, kind: 'ping' as const })),
    ].sort((a, b) => a.f.first - b.f.first);
    for (const { f, kind } of folds) rows.push(foldRow(f, kind, conversationId));
    keepAlives.clear();
    pings.clear();
  };
  const fold = (map: Map<number, Fold>, e: WsMessageEvent, i: number) => {
    const f = map.get(e.socket);
    if (f) {
      f.count++;
      f.last = e.t;
      f.events.push(i);
    } else {
      map.set(e.socket, { socket: e.socket, first: e.t, last: e.t, count: 1, events: [i] });
    }
  };

  for (const { event: e, index: i } of events) {
    if (e.type === 'ws.message' && isBlankFrame(e)) {
      fold(e.from === 'server' ? keepAlives : pings, e, i);
      continue;
    }
    flush();
    switch (e.type) {
      case 'http':
        rows.push(httpRow(e, i, conversationId, model, textWidth));
        break;
      case 'ws.open':
        rows.push(openRow(e, i, conversationId, cassette));
        break;
      case 'ws.message':
        rows.push(frameRow(e, i, conversationId, model, textWidth));
        break;
      case 'ws.close':
        rows.push(closeRow(e, i, conversationId));
        break;
    }
    if (e.type !== 'ws.message' && e.fault) {
      const row = rows[rows.length - 1];
      row.fault = e.fault.rule + (e.fault.delay ? ` (+${Math.round(e.fault.delay)} ms)` : '');
      row.tags.push('fault');
    }
  }
  flush();
  return rows;
}

function base(
  kind: TimelineRowKind,
  e: { t: number },
  i: number,
  conversationId: string | null,
  direction: Direction | null,
  tags: string[],
): TimelineRow {
  return { kind, conversationId, t: e.t, at: at(e.t), direction, events: [i], tags, text: '' };
}

function httpRow(e: HttpEvent, i: number, conversationId: string | null, model: CassetteModel, textWidth: number): TimelineRow {
  const sub = stripBase(e.request.path, model.basePath) ?? e.request.path;
  const query = Object.entries(e.request.query).filter(([k]) => k !== 't');
  const path = query.length ? `${sub}?${query.map(([k, v]) => `${k}=${v}`).join('&')}` : sub;
  const status = e.response ? e.response.status : null;
  const tags = ['http', e.route, e.request.method.toLowerCase()];
  if (status === null || status >= 400) tags.push('error');
  const row: TimelineRow = {
    ...base('http', e, i, conversationId, 'client→upstream', tags),
    method: e.request.method,
    route: e.route,
    path,
    status,
    duration: e.duration,
  };
  const x = model.exchange(i);
  const posted = x?.posted ?? null;
  const delivered = x?.delivered ?? null;
  const acts: ActivitySummary[] = [];
  if (posted) {
    const { echo: _echo, ...summary } = summarizeActivity(posted, model, textWidth);
    acts.push({ ...summary, role: 'user' });
  }
  if (delivered) {
    acts.push(...delivered.activities.map((a) => summarizeActivity(a, model, textWidth)));
    row.watermark = delivered.watermark ?? null;
  }
  if (acts.length || delivered) row.activities = acts;
  for (const a of acts) if (!tags.includes(a.type)) tags.push(a.type);
  const err = errorText(e);
  if (err) row.error = err;
  return row;
}

function errorText(e: HttpEvent): string | undefined {
  if (!e.response) return e.error ? `${e.error.code}: ${e.error.message}` : 'no response';
  if (e.response.status < 400) return e.error ? `${e.error.code}: ${e.error.message}` : undefined;
  const b = e.response.body;
  if (b && 'json' in b && b.json && typeof b.json === 'object') {
    const inner = (b.json as { error?: { code?: unknown; message?: unknown } }).error;
    if (inner && typeof inner === 'object') {
      const code = typeof inner.code === 'string' ? inner.code : '';
      const message = typeof inner.message === 'string' ? inner.message : '';
      return [code, message].filter(Boolean).join(': ') || undefined;
    }
  }
  if (b && 'text' in b && b.text.trim()) return oneLine(b.text, 80);
  return e.error ? `${e.error.code}: ${e.error.message}` : undefined;
}

function openRow(e: WsOpenEvent, i: number, conversationId: string | null, cassette: Cassette): TimelineRow {
  const sub = stripBase(e.path, cassette.upstream.basePath) ?? e.path;
  const query = Object.entries(e.query).filter(([k]) => k !== 't');
  const tags = ['ws', 'open', 'ws.open'];
  if (e.status !== 101) tags.push('error');
  const row: TimelineRow = {
    ...base('ws.open', e, i, conversationId, 'client→upstream', tags),
    socket: e.socket,
    path: query.length ? `${sub}?${query.map(([k, v]) => `${k}=${v}`).join('&')}` : sub,
    status: e.status,
  };
  if ('watermark' in e.query) row.watermark = e.query.watermark;
  if (e.status !== 101 && e.response) {
    const b = e.response.body;
    if (b && 'json' in b && b.json && typeof b.json === 'object') {
      const inner = (b.json as { error?: { code?: unknown; message?: unknown } }).error;
      if (inner) row.error = [inner.code, inner.message].filter((x) => typeof x === 'string' && x).join(': ');
    } else if (b && 'text' in b && b.text.trim()) {
      row.error = oneLine(b.text, 80);
    }
  }
  return row;
}

function frameRow(e: WsMessageEvent, i: number, conversationId: string | null, model: CassetteModel, textWidth: number): TimelineRow {
  const direction: Direction = e.from === 'server' ? 'upstream→client' : 'client→upstream';
  const row: TimelineRow = { ...base('ws.frame', e, i, conversationId, direction, ['ws', 'frame', 'ws.message']), socket: e.socket };
  if ('json' in e.data && isActivitySet(e.data.json)) {
    const set = e.data.json;
    row.activities = set.activities.map((a: Activity) => summarizeActivity(a, model, textWidth));
    if ('watermark' in set) row.watermark = set.watermark ?? null;
    for (const a of row.activities) if (!row.tags.includes(a.type)) row.tags.push(a.type);
  } else if ('base64' in e.data) {
    row.note = `binary, ${Buffer.from(e.data.base64, 'base64').length} bytes`;
  } else if ('json' in e.data) {
    row.note = oneLine(e.data.text ?? JSON.stringify(e.data.json), 80);
  } else {
    row.note = JSON.stringify(oneLine(e.data.text, 80));
  }
  return row;
}

function closeRow(e: WsCloseEvent, i: number, conversationId: string | null): TimelineRow {
  const direction: Direction = e.by === 'server' ? 'upstream→client' : e.by === 'client' ? 'client→upstream' : 'proxy';
  const tags = ['ws', 'close', 'ws.close'];
  if (e.by === 'server' && e.code !== 1000) tags.push('error');
  return { ...base('ws.close', e, i, conversationId, direction, tags), socket: e.socket, closedBy: e.by, code: e.code, reason: e.reason };
}

function foldRow(f: Fold, kind: 'keepalive' | 'ping', conversationId: string | null): TimelineRow {
  return {
    kind,
    conversationId,
    t: f.first,
    at: at(f.first),
    direction: kind === 'keepalive' ? 'upstream→client' : 'client→upstream',
    events: f.events,
    tags: ['ws', kind],
    text: '',
    socket: f.socket,
    count: f.count,
    span: f.last - f.first,
  };
}

/** Inserts a gap row before every upstream frame that came more than `gapMs` after the previous row. */
function withGaps(rows: TimelineRow[], gapMs: number): TimelineRow[] {
  const out: TimelineRow[] = [];
  let prev: number | null = null;
  for (const r of rows) {
    const folded = r.kind === 'keepalive' || r.kind === 'ping';
    if (!folded) {
      const fromUpstream = r.direction === 'upstream→client';
      if (fromUpstream && prev !== null && r.t - prev > gapMs) {
        out.push({
          kind: 'gap',
          conversationId: r.conversationId,
          t: prev,
          at: at(prev),
          direction: null,
          events: [],
          tags: ['gap'],
          text: '',
          gap: r.t - prev,
        });
      }
      prev = r.t;
    }
    out.push(r);
  }
  return out;
}

// ---------------------------------------------------------------------------------------- rendering

function formatRow(r: TimelineRow, pal: Palette, conversationId: string | null, textWidth: number, withTime: boolean): string[] {
  const lines = formatRowBody(r, pal, conversationId, textWidth, withTime);
  if (r.fault) lines[0] += `  ${pal.yellow(`[injected fault: ${r.fault}]`)}`;
  return lines;
}

function formatRowBody(r: TimelineRow, pal: Palette, conversationId: string | null, textWidth: number, withTime: boolean): string[] {
  const time = withTime ? pal.dim(r.at.padStart(10)) + '  ' : '';
  const indent = withTime ? ' '.repeat(16) : '    ';
  const arrow = r.direction === 'client→upstream' ? '→' : r.direction === 'upstream→client' ? '←' : r.direction === 'proxy' ? '×' : ' ';
  const head = `${time}${pal.bold(arrow)} `;
  const shortPath = (p: string) =>
    conversationId && conversationId.length > 10 ? p.split(conversationId).join(conversationId.slice(0, 6) + '…') : p;
  const sock = (n: number | undefined) => pal.blue(`ws#${n}`);
  const sub = (acts: ActivitySummary[]) => acts.map((a) => `${indent}${pal.dim('↳')} ${formatActivity(a, pal, textWidth)}`);
  switch (r.kind) {
    case 'gap':
      return [`${withTime ? ' '.repeat(14) : ''}${pal.dim(`… ${seconds(r.gap ?? 0)} …`)}`];
    case 'keepalive':
    case 'ping': {
      const word = r.kind === 'keepalive' ? 'keep-alive' : 'ping';
      const what = (r.count ?? 1) > 1 ? `${r.count} ${word}s over ${seconds(r.span ?? 0)}` : word;
      return [head + `${sock(r.socket)} ${pal.dim(what)}`];
    }
    case 'http': {
      let line =
        head +
        `${pal.bold(r.method ?? '')} ${r.route} ${pal.dim(shortPath(r.path ?? ''))}  ${pal.dim('←')} ` +
        `${statusText(r.status ?? null, pal)}  ${pal.dim(duration(r.duration ?? 0))}`;
      if (r.error) line += `  ${pal.red(r.error)}`;
      const acts = r.activities ?? [];
      const posted = r.route === Route.activitiesPost && acts.length ? acts[0] : null;
      if (posted) line += `  ${formatActivity(posted, pal, textWidth)}`;
      const delivered = posted ? acts.slice(1) : acts;
      if (r.route === Route.activitiesGet || (!posted && r.activities)) {
        line += pal.dim(
          `  ${plural(delivered.length, 'activity', 'activities')}` +
            `${r.watermark !== undefined ? `, watermark ${r.watermark ?? 'none'}` : ''}`,
        );
        return [line, ...sub(delivered)];
      }
      return [line];
    }
    case 'ws.open': {
      const refused = r.status !== 101;
      let line = head + `${sock(r.socket)} open ${pal.dim(shortPath(r.path ?? ''))}  ${pal.dim('←')} ${statusText(r.status ?? null, pal)}`;
      if (refused) line += `  ${pal.red('refused' + (r.error ? `: ${r.error}` : ''))}`;
      return [line];
    }
    case 'ws.close': {
      const code = `${r.code}${r.reason ? ` "${r.reason}"` : ''}`;
      const color = r.closedBy === 'server' && r.code !== 1000 ? pal.red : pal.yellow;
      return [head + `${sock(r.socket)} ${color(`closed by ${r.closedBy}`)} ${color(code)}`];
    }
    case 'ws.frame': {
      const acts = r.activities;
      const wm = r.watermark !== undefined ? pal.dim(`  wm ${r.watermark ?? 'none'}`) : '';
      if (!acts)
        return [head + `${sock(r.socket)} ${r.direction === 'client→upstream' ? 'client frame' : 'frame'} ${pal.dim(r.note ?? '')}`];
      if (acts.length === 1) return [head + `${sock(r.socket)} ${formatActivity(acts[0], pal, textWidth)}${wm}`];
      return [head + `${sock(r.socket)} ${plural(acts.length, 'activity', 'activities')}${wm}`, ...sub(acts)];
    }
  }
}

function formatActivity(a: ActivitySummary, pal: Palette, textWidth: number): string {
  const who = a.role === 'user' ? pal.cyan : a.role === 'bot' ? pal.magenta : pal.yellow;
  const type = a.type === 'message' ? a.type : a.type === 'typing' ? pal.dim(a.type) : pal.yellow(a.type);
  let s = `${type} ${who(`${a.role}${a.name ? ` "${a.name}"` : ''}`)}`;
  if (a.echo) s += pal.dim(' (echo)');
  if (a.text) s += `: ${who(JSON.stringify(oneLine(a.text, textWidth)))}`;
  if (a.attachments?.length) s += pal.dim(` [${plural(a.attachments.length, 'attachment')}: ${a.attachments.join(', ')}]`);
  return s;
}

function statusText(status: number | null, pal: Palette): string {
  if (status === null) return pal.red('no response');
  const text = `${status}${STATUS_CODES[status] ? ' ' + STATUS_CODES[status] : ''}`;
  if (status >= 400) return pal.red(text);
  if (status >= 300) return pal.yellow(text);
  return pal.green(text);
}

function at(t: number): string {
  return `+${(t / 1000).toFixed(3)}s`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function duration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : seconds(ms);
}

function plural(n: number, one: string, many = one + 's'): string {
  return `${n} ${n === 1 ? one : many}`;
}
