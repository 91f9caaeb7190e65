// The inspector page: loads the view (or follows the live channel), filters it into the timeline,
// shows a row's details and the conversation as the user saw it, and moves between rows and turns
// with the keyboard.
import type { ChatActivity, ConversationView, InspectorView, LiveMessage, RowDetail, RowView } from '../view.js';
import { ChatView } from './chat.js';
import { byId, duration, getJson, h, seconds } from './dom.js';
import { jsonTree, withPlaceholders } from './json-tree.js';
import { Timeline, type Item } from './timeline.js';

const state = {
  view: null as InspectorView | null,
  rows: new Map<string, RowView>(),
  conversations: new Map<string, ConversationView>(),
  /** Rows per conversation, in time order. */
  byConversation: new Map<string, RowView[]>(),
  /** Row key → keys of the rows it caused. */
  effects: new Map<string, string[]>(),
  selected: null as string | null,
  detailsOpen: false,
  placeholders: {} as Record<string, string>,
};

const filters = {
  conversation: byId<HTMLSelectElement>('f-conversation'),
  route: byId<HTMLSelectElement>('f-route'),
  type: byId<HTMLSelectElement>('f-type'),
  text: byId<HTMLInputElement>('f-text'),
  keepalive: byId<HTMLInputElement>('f-keepalive'),
};

const timeline = new Timeline(byId('rows'), byId('rows-inner'), byId('axis'), {
  select: (key) => select(key, true),
  open: (key) => select(key, true),
});
let chat: ChatView | null = null;

// ---- data -------------------------------------------------------------------------------------------

function setView(view: InspectorView): void {
  state.view = view;
  state.rows.clear();
  state.conversations.clear();
  for (const c of view.conversations) state.conversations.set(c.key, c);
  for (const r of view.rows) state.rows.set(r.key, r);
  state.placeholders = Object.assign({}, ...view.cassettes.map((c) => c.placeholders));
  chat ??= new ChatView(byId('chat-body'), byId('chat-mode'), view.webChat, (row) => select(row, true));
  if (view.live) {
    const badge = byId('live');
    badge.hidden = false;
    badge.textContent = view.live === 'record' ? 'live · recording' : 'live · replaying';
    badge.className = view.live;
  }
  reindex();
}

function update(msg: Extract<LiveMessage, { type: 'update' }>): void {
  if (!state.view) return;
  const follow = timeline.atEnd();
  for (const c of msg.cassettes) state.view.cassettes[c.index] = c;
  state.placeholders = Object.assign({}, ...state.view.cassettes.map((c) => c.placeholders));
  for (const c of msg.conversations) state.conversations.set(c.key, c);
  for (const r of msg.rows) state.rows.set(r.key, r);
  reindex();
  if (follow) timeline.scrollToEnd();
  const current = chat?.current;
  if (current && msg.conversations.some((c) => c.key === current)) void refreshChat(current);
}

function reindex(): void {
  state.byConversation.clear();
  state.effects.clear();
  for (const c of state.conversations.values()) state.byConversation.set(c.key, []);
  for (const r of state.rows.values()) {
    state.byConversation.get(r.conversation)?.push(r);
    if (r.cause) {
      const list = state.effects.get(r.cause);
      if (list) list.push(r.key);
      else state.effects.set(r.cause, [r.key]);
    }
  }
  for (const rows of state.byConversation.values()) rows.sort((a, b) => a.t - b.t);
  fillFilters();
  refilter();
}

// ---- filters ----------------------------------------------------------------------------------------

function fillFilters(): void {
  const convs = orderedConversations();
  setOptions(
    filters.conversation,
    convs.map((c) => [c.key, `${c.label} (${state.byConversation.get(c.key)?.length ?? 0})`]),
  );
  const routes = new Set<string>();
  const types = new Set<string>();
  for (const r of state.rows.values()) {
    if (r.route) routes.add(r.route);
    for (const t of r.types) types.add(t);
  }
  setOptions(
    filters.route,
    [...routes].sort().map((r) => [r, r]),
  );
  setOptions(
    filters.type,
    [...types].sort().map((t) => [t, t]),
  );
}

function setOptions(select: HTMLSelectElement, options: Array<[string, string]>): void {
  const keep = select.value;
  const wanted = JSON.stringify(options);
  if (select.dataset.options === wanted) return;
  select.dataset.options = wanted;
  select.replaceChildren(h('option', { value: '' }, 'all'), ...options.map(([v, label]) => h('option', { value: v }, label)));
  select.value = options.some(([v]) => v === keep) ? keep : '';
}

/** Live replay sessions first (what is happening now), then the cassettes' conversations. */
function orderedConversations(): ConversationView[] {
  const all = [...state.conversations.values()];
  return [...all.filter((c) => c.live), ...all.filter((c) => !c.live)];
}

function refilter(): void {
  const conv = filters.conversation.value;
  const route = filters.route.value;
  const type = filters.type.value;
  const text = filters.text.value.trim().toLowerCase();
  const keepalive = filters.keepalive.checked;
  const items: Item[] = [];
  let shown = 0;
  let total = 0;
  for (const c of orderedConversations()) {
    const rows = state.byConversation.get(c.key) ?? [];
    total += rows.length;
    if (conv && c.key !== conv) continue;
    const kept = rows.filter(
      (r) =>
        (!route || r.route === route) &&
        (!type || r.types.includes(type)) &&
        (keepalive || (r.kind !== 'keepalive' && r.kind !== 'ping')) &&
        (!text || r.text.toLowerCase().includes(text) || (r.route ?? '').includes(text) || r.kind.includes(text)),
    );
    if (kept.length === 0 && (route || type || text)) continue;
    items.push({ type: 'conv', conv: c, shown: kept.length, total: rows.length });
    for (const r of kept) items.push({ type: 'row', row: r, conv: c });
    shown += kept.length;
  }
  byId('count').textContent = `${shown.toLocaleString('en')} of ${total.toLocaleString('en')} rows`;
  timeline.setItems(items);
  if (!chat?.current) {
    const first = conv || orderedConversations().find((c) => c.chat > 0)?.key;
    if (first) void refreshChat(first);
  } else if (conv && chat.current !== conv) void refreshChat(conv);
  document.body.dataset.ready = 'true';
}

byId('filters').addEventListener('submit', (e) => e.preventDefault());
for (const el of [filters.conversation, filters.route, filters.type, filters.keepalive]) el.addEventListener('change', refilter);
filters.text.addEventListener('input', refilter);

// ---- selection, details, chat -----------------------------------------------------------------------

function select(key: string, open: boolean): void {
  const row = state.rows.get(key);
  if (!row) return;
  state.selected = key;
  const linked = new Set<string>([
    ...(row.cause ? [row.cause] : []),
    ...(state.effects.get(key) ?? []),
    ...(row.recorded ? [row.recorded] : []),
  ]);
  timeline.setSelected(key, linked);
  if (open || state.detailsOpen) void showDetails(row);
  if (chat?.current !== row.conversation) void refreshChat(row.conversation);
}

async function refreshChat(conversation: string): Promise<void> {
  if (!chat) return;
  try {
    const activities = await getJson<ChatActivity[]>(`./api/chat?conversation=${encodeURIComponent(conversation)}`);
    await chat.show(conversation, activities);
  } catch (err) {
    byId('chat-body').replaceChildren(h('p', { class: 'empty' }, String((err as Error).message)));
  }
}

async function showDetails(row: RowView): Promise<void> {
  state.detailsOpen = true;
  const pane = byId('details');
  pane.hidden = false;
  byId('details-title').textContent = `${row.kind} ${seconds(row.t)}`;
  const body = byId('details-body');
  body.replaceChildren(h('p', { class: 'empty' }, 'loading…'));
  let detail: RowDetail;
  try {
    detail = await getJson<RowDetail>(`./api/detail?row=${encodeURIComponent(row.key)}`);
  } catch (err) {
    body.replaceChildren(h('p', { class: 'empty' }, String((err as Error).message)));
    return;
  }
  if (state.selected !== row.key) return;
  const ph = { ...state.placeholders, ...detail.placeholders };
  const parts: Node[] = [h('div', { class: 'summary' }, ...withPlaceholders(row.text, ph))];
  if (row.cause) {
    const cause = state.rows.get(row.cause);
    parts.push(
      h(
        'p',
        null,
        'Caused by ',
        link(row.cause, cause ? cause.text : row.cause),
        row.wait !== undefined ? ` — ${duration(row.wait)} before` : '',
      ),
    );
  }
  const effects = state.effects.get(row.key);
  if (effects?.length)
    parts.push(
      h(
        'p',
        null,
        `Caused ${effects.length} row${effects.length > 1 ? 's' : ''}: `,
        ...effects.slice(0, 8).flatMap((k, i) => [i ? ', ' : '', link(k, state.rows.get(k)?.text ?? k)]),
      ),
    );
  if (row.recorded) parts.push(h('p', null, 'Recorded as ', link(row.recorded, state.rows.get(row.recorded)?.text ?? row.recorded)));
  const mismatch = detail.note?.mismatch as { reason: string; status: number; received: unknown; expected: unknown } | undefined;
  if (mismatch) {
    parts.push(h('h3', null, `Mismatch (answered ${mismatch.status})`), h('p', { class: 'mismatch-reason' }, mismatch.reason));
    parts.push(
      h(
        'div',
        { class: 'vs' },
        h('div', { class: 'bad' }, h('h3', null, 'received'), jsonTree(mismatch.received, { placeholders: ph })),
        h(
          'div',
          null,
          h('h3', null, 'expected next'),
          mismatch.expected === null
            ? h('p', { class: 'empty' }, 'nothing: the cassette has no further request of this route')
            : jsonTree(mismatch.expected, { placeholders: ph }),
        ),
      ),
    );
  } else if (detail.note) {
    parts.push(jsonTree(detail.note, { placeholders: ph }));
  }
  if (detail.event !== null)
    parts.push(h('h3', null, 'Event (as stored in the cassette)'), jsonTree(detail.event, { placeholders: ph, openDepth: 7 }));
  body.replaceChildren(...parts);
}

function link(key: string, text: string): HTMLElement {
  const a = h('a', { href: `#${key}` }, text.length > 80 ? `${text.slice(0, 79)}…` : text);
  a.addEventListener('click', (e) => {
    e.preventDefault();
    select(key, true);
  });
  return a;
}

function closeDetails(): void {
  state.detailsOpen = false;
  byId('details').hidden = true;
}
byId('details-close').addEventListener('click', closeDetails);

// ---- keyboard ---------------------------------------------------------------------------------------

document.addEventListener('keydown', (e) => {
  const target = e.target as HTMLElement;
  if (target.matches('input, select, textarea')) {
    if (e.key === 'Escape') target.blur();
    return;
  }
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const keys = timeline.rowKeys();
  const at = state.selected ? keys.indexOf(state.selected) : -1;
  const move = (i: number) => {
    if (keys[i] !== undefined) select(keys[i], false);
  };
  const turn = (step: 1 | -1) => {
    for (let i = at + step; i >= 0 && i < keys.length; i += step) {
      if (state.rows.get(keys[i])?.turn) return move(i);
    }
  };
  switch (e.key) {
    case 'ArrowDown':
    case 'j':
      move(at + 1);
      break;
    case 'ArrowUp':
    case 'k':
      move(Math.max(0, at - 1));
      break;
    case 'n':
      turn(1);
      break;
    case 'p':
      turn(-1);
      break;
    case 'Home':
      move(0);
      break;
    case 'End':
      move(keys.length - 1);
      break;
    case 'Enter':
      if (state.selected) select(state.selected, true);
      break;
    case 'Escape':
      closeDetails();
      break;
    case '/':
      filters.text.focus();
      break;
    default:
      return;
  }
  e.preventDefault();
});

// ---- start --------------------------------------------------------------------------------------------

async function start(): Promise<void> {
  const view = await getJson<InspectorView>('./api/view');
  setView(view);
  if (!view.live) return;
  const source = new EventSource('./api/live');
  source.onmessage = (m) => {
    const msg = JSON.parse(m.data as string) as LiveMessage;
    if (msg.type === 'snapshot') setView(msg.view);
    else update(msg);
  };
  source.onerror = () => {
    byId('live').textContent = 'live · disconnected';
  };
}

start().catch((err: Error) => {
  byId('rows-inner').replaceChildren(h('p', { class: 'empty', style: 'padding:8px' }, `Could not load the view: ${err.message}`));
});
