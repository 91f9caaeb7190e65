// A cassette's read model (src/model/) as the page's rows: one row per conversation event on its lane
// (HTTP, or the socket's ordinal), each tied to the client action that caused it, and the activities the
// user saw. Nothing here parses events: meanings come from the model.
import { localAttachmentUrls } from './attachments.js';
import type { Cassette, CassetteEvent, HttpEvent, WsCloseEvent, WsMessageEvent, WsOpenEvent } from '../cassette/schema.js';
import { readModel, isBlankFrame, isKeepAlive, type Cause, type DeliveryView, type ExchangeView } from '../model/index.js';
import type * as model from '../model/index.js';
import { Route } from '../protocol/routes.js';
import type { Activity } from '../protocol/types.js';
import type { CassetteView, ChatActivity, ConversationView, LaneView, RowView } from './view.js';

/** Gives each event object a stable number, so a row keeps its key while a live cassette grows (inserts shift indices). */
export class EventIds {
  // A Map, not a WeakMap: byId holds the events anyway, and Map look-ups are the cheaper of the two.
  private readonly ids = new Map<CassetteEvent, number>();
  private readonly byId: Array<{ cassette: number; event: CassetteEvent }> = [];

  keyOf(cassette: number, event: CassetteEvent): string {
    let id = this.ids.get(event);
    if (id === undefined) {
      id = this.byId.length;
      this.ids.set(event, id);
      this.byId.push({ cassette, event });
    }
    return `e${id + 1}`;
  }

  find(key: string): { cassette: number; event: CassetteEvent } | undefined {
    return /^e\d+$/.test(key) ? this.byId[Number(key.slice(1)) - 1] : undefined;
  }
}

export interface CassetteRows {
  cassette: CassetteView;
  conversations: ConversationView[];
  rows: RowView[];
  /** What the user saw in a conversation (by its key): built when first asked for, then kept. */
  chat(conversation: string): ChatActivity[] | undefined;
}

/**
 * The rows of one cassette (index `ci` in the view). One pass over each conversation's events, using what
 * the read model already holds (an HTTP event's entry is its ExchangeView; deliveries come in event order);
 * the chat views, needed only when the page asks for one, are built then.
 */
export function cassetteRows(c: Cassette, ci: number, name: string, ids: EventIds): CassetteRows {
  const m = readModel(c);
  const conversations: ConversationView[] = [];
  const rows: RowView[] = [];
  const keyOfIndex = (index: number) => ids.keyOf(ci, c.events[index]);
  const convByKey = new Map<string, model.ConversationView>();
  for (const conv of m.conversations) {
    const key = `${ci}/${conv.id ?? `#${conv.ordinal}`}`;
    convByKey.set(key, conv);
    const lanes: LaneView[] = [{ label: 'http', ordinal: 0, from: conv.events[0]?.event.t ?? 0, to: null }];
    const laneOfSocket = new Map<number, number>();
    for (const s of conv.sockets) {
      laneOfSocket.set(s.socket, lanes.length);
      const from = s.open?.event.t ?? s.frames[0]?.event.t ?? 0;
      const close = s.close?.event;
      lanes.push({
        label: `socket ${s.ordinal}${s.ordinal > 1 ? ' (reconnect)' : ''}`,
        ordinal: s.ordinal,
        from,
        to: close ? close.t : null,
        ...(close ? { end: `closed ${close.code} by ${close.by}` } : {}),
      });
    }
    const first = conv.events[0]?.event.t ?? 0;
    let last = first;
    let d = 0; // the next delivery: the model lists them in event order
    for (const e of conv.events) {
      const delivery = conv.deliveries[d]?.index === e.index ? conv.deliveries[d++] : undefined;
      const ev = e.event;
      const id = { key: keyOfIndex(e.index), conversation: key };
      if (ev.type === 'http') {
        rows.push(httpRow(e as ExchangeView, id, ev, delivery, keyOfIndex));
        last = Math.max(last, ev.t + ev.duration);
        continue;
      }
      last = Math.max(last, ev.t);
      const lane = laneOfSocket.get(ev.socket) ?? 0;
      rows.push(
        ev.type === 'ws.open'
          ? openRow(ev, id, lane)
          : ev.type === 'ws.close'
            ? closeRow(ev, id, lane)
            : frameRow(ev, id, lane, delivery, e.cause, keyOfIndex),
      );
    }
    let chat = 0;
    for (const a of conv.log) if (!a.typing) chat++;
    conversations.push({
      key,
      cassette: ci,
      id: conv.id,
      lanes,
      start: first,
      end: last,
      chat,
      label:
        conv.id === null
          ? `no conversation (${conv.events[0]?.event.type === 'http' ? (conv.events[0].event as HttpEvent).route : 'socket'})`
          : conv.id,
    });
  }
  const cassette: CassetteView = {
    index: ci,
    name,
    createdAt: c.createdAt,
    upstream: c.upstream.origin + c.upstream.basePath,
    placeholders: { ...c.redaction.placeholders },
    events: c.events.length,
  };
  const chats = new Map<string, ChatActivity[]>();
  const chat = (conversation: string): ChatActivity[] | undefined => {
    let got = chats.get(conversation);
    const conv = convByKey.get(conversation);
    if (!got && conv) {
      got = conv.log
        .filter((a) => !a.typing)
        .map((a) => chatActivityOf(localAttachmentUrls(a.activity, c, ci), a.role, keyOfIndex(a.delivery.index)));
      chats.set(conversation, got);
    }
    return got;
  };
  return { cassette, conversations, rows, chat };
}

/** A row's key and its conversation's key. */
interface RowId {
  key: string;
  conversation: string;
}

/**
 * A row with every field in the same order (the optional ones undefined, which JSON leaves out): ten
 * thousand rows of one shape are cheaper to build and to serialise than rows of many shapes.
 */
function newRow(id: RowId, t: number, kind: RowView['kind'], lane: number, dir: RowView['dir'], text: string, types: string[]): RowView {
  return {
    key: id.key,
    conversation: id.conversation,
    t,
    kind,
    lane,
    dir,
    text,
    route: undefined,
    method: undefined,
    status: undefined,
    duration: undefined,
    types,
    cause: undefined,
    wait: undefined,
    turn: undefined,
    error: undefined,
    recorded: undefined,
    note: undefined,
  };
}

function httpRow(
  x: ExchangeView,
  id: RowId,
  ev: HttpEvent,
  delivery: DeliveryView | undefined,
  keyOfIndex: (i: number) => string,
): RowView {
  const status = ev.response?.status ?? null;
  const activity = x.posted ? ` ${activityLine(x.posted)}` : '';
  const got = delivery ? ` ← ${activitiesLine(freshActivities(delivery), delivery.set.activities.length)}` : '';
  const failed = status === null ? ` ✕ ${ev.error?.code ?? 'no response'}` : '';
  const types = typesOf(delivery);
  if (x.posted) types.unshift(typeOf(x.posted));
  const row = newRow(
    id,
    ev.t,
    'http',
    0,
    'up',
    `${ev.request.method} ${x.route}${activity} → ${status ?? '—'}${failed} (${ms(ev.duration)})${got}`,
    types,
  );
  row.route = x.route;
  row.method = ev.request.method;
  row.status = status;
  row.duration = ev.duration;
  row.error = status === null || status >= 400;
  if (x.policy.cause && !x.typing) row.turn = true;
  if (delivery) linkCause(row, firstCause(delivery, x.cause), keyOfIndex);
  return row;
}

function openRow(ev: WsOpenEvent, id: RowId, lane: number): RowView {
  const wm = ev.query.watermark !== undefined ? ` watermark=${ev.query.watermark}` : '';
  const row = newRow(
    id,
    ev.t,
    'open',
    lane,
    'up',
    ev.status === 101 ? `stream opened${wm} → 101` : `stream refused${wm} → ${ev.status}`,
    [],
  );
  row.route = Route.stream;
  row.status = ev.status;
  row.error = ev.status !== 101;
  return row;
}

function closeRow(ev: WsCloseEvent, id: RowId, lane: number): RowView {
  const row = newRow(
    id,
    ev.t,
    'close',
    lane,
    ev.by === 'server' ? 'down' : ev.by === 'client' ? 'up' : null,
    `closed ${ev.code} by ${ev.by}${ev.reason ? ` “${oneLine(ev.reason, 60)}”` : ''}`,
    [],
  );
  row.error = ev.code !== 1000 && ev.code !== 1005 && ev.by !== 'client';
  return row;
}

function frameRow(
  ev: WsMessageEvent,
  id: RowId,
  lane: number,
  delivery: DeliveryView | undefined,
  cause: Cause,
  keyOfIndex: (i: number) => string,
): RowView {
  const dir = ev.from === 'server' ? 'down' : 'up';
  if (isKeepAlive(ev)) return newRow(id, ev.t, 'keepalive', lane, dir, 'keep-alive', ['keepalive']);
  if (ev.from === 'client' && isBlankFrame(ev)) return newRow(id, ev.t, 'ping', lane, dir, 'ping', ['ping']);
  if (delivery) {
    const row = newRow(
      id,
      ev.t,
      'frame',
      lane,
      dir,
      activitiesLine(freshActivities(delivery), delivery.set.activities.length),
      typesOf(delivery),
    );
    linkCause(row, firstCause(delivery, cause), keyOfIndex);
    return row;
  }
  const data = ev.data;
  const what =
    'base64' in data
      ? `binary (${Math.round((data.base64.length * 3) / 4)} bytes)`
      : 'json' in data
        ? oneLine(JSON.stringify(data.json), 80)
        : oneLine(data.text, 80);
  return newRow(id, ev.t, 'frame', lane, dir, `${ev.from === 'server' ? 'frame' : 'client frame'}: ${what}`, []);
}

function freshActivities(d: DeliveryView): Activity[] {
  return d.fresh.length === 1 ? [d.fresh[0].activity] : d.fresh.map((a) => a.activity);
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
  if (!d || d.fresh.length === 0) return [];
  if (d.fresh.length === 1) return [typeOf(d.fresh[0].activity)];
  return [...new Set(d.fresh.map((a) => typeOf(a.activity)))];
}

function typeOf(a: Activity): string {
  return typeof a.type === 'string' && a.type ? a.type : 'unknown';
}

function activityLine(a: Activity): string {
  const text = typeof a.text === 'string' && a.text.trim() ? ` “${oneLine(a.text, 70)}”` : '';
  const name = typeof a.name === 'string' && a.name ? ` ${a.name}` : '';
  const att =
    Array.isArray(a.attachments) && a.attachments.length
      ? ` [${a.attachments.length} attachment${a.attachments.length > 1 ? 's' : ''}]`
      : '';
  return `${typeOf(a)}${name}${text}${att}`;
}

export function activitiesLine(fresh: Activity[], total: number): string {
  if (fresh.length === 0) return total === 0 ? 'no activities' : `${total} activit${total > 1 ? 'ies' : 'y'} seen before`;
  if (fresh.length === 1) return activityLine(fresh[0]);
  return `${fresh.length} activities: ${fresh.map(activityLine).join(' · ')}`;
}

/** An activity as the chat view shows it; `row` is the row that delivered it. */
export function chatActivityOf(act: Activity, role: string, row: string): ChatActivity {
  const out: ChatActivity = { type: typeOf(act), role, raw: act, row };
  if (typeof act.id === 'string') out.id = act.id;
  const name =
    typeof act.from?.name === 'string' && act.from.name ? act.from.name : typeof act.from?.id === 'string' ? act.from.id : undefined;
  if (name) out.name = name;
  if (typeof act.text === 'string') out.text = act.text;
  if (typeof act.timestamp === 'string') out.timestamp = act.timestamp;
  if (Array.isArray(act.attachments) && act.attachments.length) {
    out.attachments = act.attachments
      .filter((x) => x && typeof x === 'object')
      .map((x) => {
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
  const texts = body
    .filter(
      (b) =>
        b && typeof b === 'object' && (b as { type?: unknown }).type === 'TextBlock' && typeof (b as { text?: unknown }).text === 'string',
    )
    .slice(0, 3)
    .map((b) => (b as { text: string }).text);
  return texts.length ? { text: texts.join('\n') } : {};
}

/** Whitespace oneLine must fold: at either end, doubled, or other than a space. */
const UNFLAT = /^\s|\s$|\s\s|[^\S ]/;

export function oneLine(s: string, max: number): string {
  // Most texts are one short line already; of a long one only the head can show.
  const head = s.length > 4 * max ? s.slice(0, 4 * max) : s;
  let flat = UNFLAT.test(head) ? head.replace(/\s+/g, ' ').trim() : head;
  if (flat.length <= max && head !== s) flat = s.replace(/\s+/g, ' ').trim(); // mostly whitespace: fold it all
  return flat.length > max ? flat.slice(0, max - 1).trimEnd() + '…' : flat;
}

function ms(n: number): string {
  return n >= 1000 ? `${(n / 1000).toFixed(2)} s` : `${Math.round(n)} ms`;
}
