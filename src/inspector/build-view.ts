// A cassette's read model (src/model/) as the page's rows: one row per conversation event on its lane
// (HTTP, or the socket's ordinal), each tied to the client action that caused it, and the activities the
// user saw. Nothing here parses events: meanings come from the model.
import type { Cassette, CassetteEvent, HttpEvent, WsCloseEvent, WsMessageEvent, WsOpenEvent } from '../cassette/schema.js';
import { readModel, isBlankFrame, isKeepAlive, type ActivityView, type Cause, type ConversationEvent, type DeliveryView, type ExchangeView } from '../model/index.js';
import type * as model from '../model/index.js';
import { Route } from '../protocol/routes.js';
import type { Activity } from '../protocol/types.js';
import type { CassetteView, ChatActivity, ConversationView, LaneView, RowView } from './view.js';

/** Gives each event object a stable number, so a row keeps its key while a live cassette grows (inserts shift indices). */
export class EventIds {
  private readonly ids = new WeakMap<object, number>();
  private readonly byId = new Map<number, { cassette: number; event: CassetteEvent }>();
  private next = 1;

  keyOf(cassette: number, event: CassetteEvent): string {
    let id = this.ids.get(event);
    if (id === undefined) {
      id = this.next++;
      this.ids.set(event, id);
      this.byId.set(id, { cassette, event });
    }
    return `e${id}`;
  }

  find(key: string): { cassette: number; event: CassetteEvent } | undefined {
    return /^e\d+$/.test(key) ? this.byId.get(Number(key.slice(1))) : undefined;
  }
}

export interface CassetteRows {
  cassette: CassetteView;
  conversations: ConversationView[];
  rows: RowView[];
  /** Chat activities per conversation key. */
  chats: Map<string, ChatActivity[]>;
}

/** The rows of one cassette (index `ci` in the view). */
export function cassetteRows(c: Cassette, ci: number, name: string, ids: EventIds): CassetteRows {
  const m = readModel(c);
  const conversations: ConversationView[] = [];
  const rows: RowView[] = [];
  const chats = new Map<string, ChatActivity[]>();
  const keyOfIndex = (index: number) => ids.keyOf(ci, c.events[index]);
  for (const conv of m.conversations) {
    const key = `${ci}/${conv.id ?? `#${conv.ordinal}`}`;
    const lanes: LaneView[] = [{ label: 'http', ordinal: 0, from: conv.events[0]?.event.t ?? 0, to: null }];
    const laneOfSocket = new Map<number, number>();
    for (const s of conv.sockets) {
      laneOfSocket.set(s.socket, lanes.length);
      const from = s.open?.event.t ?? s.frames[0]?.event.t ?? 0;
      const close = s.close?.event;
      lanes.push({
        label: `socket ${s.ordinal}${s.ordinal > 1 ? ' (reconnect)' : ''}`, ordinal: s.ordinal, from, to: close ? close.t : null,
        ...(close ? { end: `closed ${close.code} by ${close.by}` } : {}),
      });
    }
    const deliveries = new Map<number, DeliveryView>();
    for (const d of conv.deliveries) deliveries.set(d.index, d);
    for (const e of conv.events) {
      rows.push(rowOf(e, key, laneOfSocket, deliveries.get(e.index), m, keyOfIndex));
    }
    const first = conv.events[0]?.event.t ?? 0;
    const last = conv.events.reduce((t, e) => Math.max(t, e.event.t + (e.event.type === 'http' ? e.event.duration : 0)), first);
    const chat = conv.log.filter((a) => !a.typing).map((a) => chatActivity(a, keyOfIndex));
    chats.set(key, chat);
    conversations.push({
      key, cassette: ci, id: conv.id, lanes, start: first, end: last, chat: chat.length,
      label: conv.id === null ? `no conversation (${conv.events[0]?.event.type === 'http' ? (conv.events[0].event as HttpEvent).route : 'socket'})` : conv.id,
    });
  }
  const cassette: CassetteView = {
    index: ci, name, createdAt: c.createdAt, upstream: c.upstream.origin + c.upstream.basePath,
    placeholders: { ...c.redaction.placeholders }, events: c.events.length,
  };
  return { cassette, conversations, rows, chats };
}

function rowOf(
  e: ConversationEvent, conversation: string, laneOfSocket: Map<number, number>, delivery: DeliveryView | undefined,
  m: model.CassetteModel, keyOfIndex: (index: number) => string,
): RowView {
  const ev = e.event;
  const base = { key: keyOfIndex(e.index), conversation, t: ev.t };
  if (ev.type === 'http') return httpRow(m.exchange(e.index)!, base, delivery, keyOfIndex);
  const lane = laneOfSocket.get(ev.socket) ?? 0;
  if (ev.type === 'ws.open') return openRow(ev, { ...base, lane });
  if (ev.type === 'ws.close') return closeRow(ev, { ...base, lane });
  return frameRow(ev, { ...base, lane }, delivery, e.cause, keyOfIndex);
}

type Base = Pick<RowView, 'key' | 'conversation' | 't'>;

function httpRow(x: ExchangeView, base: Base, delivery: DeliveryView | undefined, keyOfIndex: (i: number) => string): RowView {
  const ev = x.event;
  const status = ev.response?.status ?? null;
  const activity = x.posted ? ` ${activityLine(x.posted)}` : '';
  const got = delivery ? ` ← ${activitiesLine(delivery.fresh.map((a) => a.activity), delivery.set.activities.length)}` : '';
  const failed = status === null ? ` ✕ ${ev.error?.code ?? 'no response'}` : '';
  const row: RowView = {
    ...base, kind: 'http', lane: 0, dir: 'up', route: x.route, method: ev.request.method, status, duration: ev.duration,
    text: `${ev.request.method} ${x.route}${activity} → ${status ?? '—'}${failed} (${ms(ev.duration)})${got}`,
    types: [...(x.posted ? [typeOf(x.posted)] : []), ...typesOf(delivery)],
    error: status === null || status >= 400,
  };
  if (x.policy.cause && !x.typing) row.turn = true;
  if (delivery) linkCause(row, firstCause(delivery, x.cause), keyOfIndex);
  return row;
}

function openRow(ev: WsOpenEvent, base: Base & { lane: number }): RowView {
  const wm = ev.query.watermark !== undefined ? ` watermark=${ev.query.watermark}` : '';
  return {
    ...base, kind: 'open', dir: 'up', route: Route.stream, status: ev.status, types: [],
    text: ev.status === 101 ? `stream opened${wm} → 101` : `stream refused${wm} → ${ev.status}`,
    error: ev.status !== 101,
  };
}

function closeRow(ev: WsCloseEvent, base: Base & { lane: number }): RowView {
  return {
    ...base, kind: 'close', dir: ev.by === 'server' ? 'down' : ev.by === 'client' ? 'up' : null, types: [],
    text: `closed ${ev.code} by ${ev.by}${ev.reason ? ` “${oneLine(ev.reason, 60)}”` : ''}`,
    error: ev.code !== 1000 && ev.code !== 1005 && ev.by !== 'client',
  };
}

function frameRow(ev: WsMessageEvent, base: Base & { lane: number }, delivery: DeliveryView | undefined, cause: Cause, keyOfIndex: (i: number) => string): RowView {
  const dir = ev.from === 'server' ? 'down' : 'up';
  if (isKeepAlive(ev)) return { ...base, kind: 'keepalive', dir, types: ['keepalive'], text: 'keep-alive' };
  if (ev.from === 'client' && isBlankFrame(ev)) return { ...base, kind: 'ping', dir, types: ['ping'], text: 'ping' };
  if (delivery) {
    const row: RowView = { ...base, kind: 'frame', dir, types: typesOf(delivery), text: activitiesLine(delivery.fresh.map((a) => a.activity), delivery.set.activities.length) };
    linkCause(row, firstCause(delivery, cause), keyOfIndex);
    return row;
  }
  const data = ev.data;
  const what = 'base64' in data ? `binary (${Math.round((data.base64.length * 3) / 4)} bytes)` : 'json' in data ? oneLine(JSON.stringify(data.json), 80) : oneLine(data.text, 80);
  return { ...base, kind: 'frame', dir, types: [], text: `${ev.from === 'server' ? 'frame' : 'client frame'}: ${what}` };
}

/** A delivery's cause is its first fresh activity's (an echo points at its own post); else the event's. */
function firstCause(d: DeliveryView, fallback: Cause): Cause {
  return d.fresh[0]?.cause ?? fallback;
}

function linkCause(row: RowView, cause: Cause, keyOfIndex: (i: number) => string): void {
  if (cause.kind === 'session') return;
  const key = keyOfIndex(cause.index);
  if (key === row.key) return;
  row.cause = key;
  row.wait = Math.max(0, Math.round((row.t - cause.t) * 1000) / 1000);
}

function typesOf(d: DeliveryView | undefined): string[] {
  if (!d) return [];
  return [...new Set(d.fresh.map((a) => typeOf(a.activity)))];
}

function typeOf(a: Activity): string {
  return typeof a.type === 'string' && a.type ? a.type : 'unknown';
}

function activityLine(a: Activity): string {
  const text = typeof a.text === 'string' && a.text.trim() ? ` “${oneLine(a.text, 70)}”` : '';
  const name = typeof a.name === 'string' && a.name ? ` ${a.name}` : '';
  const att = Array.isArray(a.attachments) && a.attachments.length ? ` [${a.attachments.length} attachment${a.attachments.length > 1 ? 's' : ''}]` : '';
  return `${typeOf(a)}${name}${text}${att}`;
}

export function activitiesLine(fresh: Activity[], total: number): string {
  if (fresh.length === 0) return total === 0 ? 'no activities' : `${total} activit${total > 1 ? 'ies' : 'y'} seen before`;
  if (fresh.length === 1) return activityLine(fresh[0]);
  return `${fresh.length} activities: ${fresh.map(activityLine).join(' · ')}`;
}

function chatActivity(a: ActivityView, keyOfIndex: (i: number) => string): ChatActivity {
  return chatActivityOf(a.activity, a.role, keyOfIndex(a.delivery.index));
}

/** An activity as the chat view shows it; `row` is the row that delivered it. */
export function chatActivityOf(act: Activity, role: string, row: string): ChatActivity {
  const out: ChatActivity = { type: typeOf(act), role, raw: act, row };
  if (typeof act.id === 'string') out.id = act.id;
  const name = typeof act.from?.name === 'string' && act.from.name ? act.from.name : typeof act.from?.id === 'string' ? act.from.id : undefined;
  if (name) out.name = name;
  if (typeof act.text === 'string') out.text = act.text;
  if (typeof act.timestamp === 'string') out.timestamp = act.timestamp;
  if (Array.isArray(act.attachments) && act.attachments.length) {
    out.attachments = act.attachments.filter((x) => x && typeof x === 'object').map((x) => {
      const content = x.content && typeof x.content === 'object' ? (x.content as Record<string, unknown>) : {};
      return {
        contentType: typeof x.contentType === 'string' ? x.contentType : 'unknown',
        ...(typeof x.name === 'string' ? { name: x.name } : {}),
        ...(typeof content.title === 'string' ? { title: content.title } : {}),
        ...(typeof content.text === 'string' ? { text: content.text } : cardText(content)),
        ...(typeof x.contentUrl === 'string' ? { url: x.contentUrl } : {}),
      };
    });
  }
  const actions = (act.suggestedActions as { actions?: Array<{ title?: unknown; value?: unknown }> } | undefined)?.actions;
  if (Array.isArray(actions)) out.suggestedActions = actions.map((x) => String(x?.title ?? x?.value ?? '')).filter(Boolean);
  return out;
}

/** An Adaptive Card's first TextBlocks, as its text. */
function cardText(content: Record<string, unknown>): { text?: string } {
  const body = content.body;
  if (!Array.isArray(body)) return {};
  const texts = body.filter((b) => b && typeof b === 'object' && (b as { type?: unknown }).type === 'TextBlock' && typeof (b as { text?: unknown }).text === 'string')
    .slice(0, 3).map((b) => (b as { text: string }).text);
  return texts.length ? { text: texts.join('\n') } : {};
}

export function oneLine(s: string, max: number): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > max ? flat.slice(0, max - 1).trimEnd() + '…' : flat;
}

function ms(n: number): string {
  return n >= 1000 ? `${(n / 1000).toFixed(2)} s` : `${Math.round(n)} ms`;
}
