// The timeline: a virtualised list (only the rows in view are in the DOM, so 10k events scroll smoothly),
// one conversation after another. Each row: time, the lanes (HTTP + one per socket, a socket's line drawn
// while it is open, so a reconnect is a new lane), the cause gutter (a bracket from a client action to the
// bot activities it caused), direction, text, and a waterfall on the conversation's time axis where HTTP
// durations and the wait after the cause are drawn to scale.
import type { ConversationView, RowView } from '../view.js';
import { duration, h, seconds } from './dom.js';

export const ROW_HEIGHT = 22;
const LANE_WIDTH = 14;
const WATERFALL = 220;
const OVERSCAN = 6;

export type Item =
  | { type: 'conv'; conv: ConversationView; shown: number; total: number }
  | { type: 'row'; row: RowView; conv: ConversationView };

interface Span {
  start: number;
  end: number;
  col: number;
  effects: Set<number>;
}

export interface TimelineEvents {
  select(key: string): void;
  open(key: string): void;
}

export class Timeline {
  private items: Item[] = [];
  private spans: Span[] = [];
  private lanes = 1;
  private selected: string | null = null;
  private linked = new Set<string>();
  private indexOfKey = new Map<string, number>();
  private frame = 0;
  /** Rows drawn in the last render, by item index: kept while they stay in view (scrolling adds only the new ones). */
  private drawn = new Map<number, HTMLElement>();

  constructor(
    private readonly scroller: HTMLElement,
    private readonly inner: HTMLElement,
    private readonly axis: HTMLElement,
    private readonly on: TimelineEvents,
  ) {
    scroller.addEventListener('scroll', () => this.schedule());
    window.addEventListener('resize', () => this.schedule());
    scroller.addEventListener('click', (e) => {
      const el = (e.target as HTMLElement).closest<HTMLElement>('.row[data-key]');
      if (el?.dataset.key) this.on.select(el.dataset.key);
    });
    scroller.addEventListener('dblclick', (e) => {
      const el = (e.target as HTMLElement).closest<HTMLElement>('.row[data-key]');
      if (el?.dataset.key) this.on.open(el.dataset.key);
    });
  }

  get length(): number {
    return this.items.length;
  }

  rowKeys(): string[] {
    return this.items.flatMap((i) => (i.type === 'row' ? [i.row.key] : []));
  }

  setItems(items: Item[]): void {
    this.items = items;
    this.indexOfKey = new Map();
    items.forEach((it, i) => {
      if (it.type === 'row') this.indexOfKey.set(it.row.key, i);
    });
    this.lanes = Math.max(1, ...items.map((it) => (it.type === 'conv' ? it.conv.lanes.length : 1)));
    this.spans = causeSpans(items, this.indexOfKey);
    this.inner.style.height = `${items.length * ROW_HEIGHT}px`;
    this.redraw();
  }

  /** Marks a row selected, and its cause and effects linked. */
  setSelected(key: string | null, linked: Set<string>): void {
    this.selected = key;
    this.linked = linked;
    if (key !== null) this.reveal(key);
    this.redraw();
  }

  reveal(key: string): void {
    const i = this.indexOfKey.get(key);
    if (i === undefined) return;
    const top = i * ROW_HEIGHT;
    const view = this.scroller.clientHeight;
    if (top < this.scroller.scrollTop + ROW_HEIGHT) this.scroller.scrollTop = Math.max(0, top - ROW_HEIGHT * 3);
    else if (top + ROW_HEIGHT > this.scroller.scrollTop + view - ROW_HEIGHT) this.scroller.scrollTop = top - view + ROW_HEIGHT * 4;
  }

  /** Whether the list is scrolled to its end (live mode keeps following new rows then). */
  atEnd(): boolean {
    return this.scroller.scrollTop + this.scroller.clientHeight >= this.scroller.scrollHeight - ROW_HEIGHT * 2;
  }

  scrollToEnd(): void {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  /** Drops every drawn row (the items, the selection or the links changed), then draws. */
  private redraw(): void {
    this.drawn.clear();
    this.inner.replaceChildren();
    this.render();
  }

  private render(): void {
    const top = this.scroller.scrollTop;
    const height = this.scroller.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(this.items.length - 1, Math.ceil((top + height) / ROW_HEIGHT) + OVERSCAN);
    const visible = this.spans.filter((s) => s.start <= last && s.end >= first);
    for (const [i, el] of this.drawn) {
      if (i < first || i > last) {
        el.remove();
        this.drawn.delete(i);
      }
    }
    const frag = document.createDocumentFragment();
    for (let i = first; i <= last; i++) {
      if (this.drawn.has(i)) continue;
      const el = this.rowElement(i, visible);
      this.drawn.set(i, el);
      frag.append(el);
    }
    this.inner.append(frag);
    this.renderAxis(Math.floor(top / ROW_HEIGHT));
  }

  private rowElement(i: number, spans: Span[]): HTMLElement {
    const it = this.items[i];
    const style = `top:${i * ROW_HEIGHT}px`;
    if (it.type === 'conv') {
      const c = it.conv;
      const sockets = c.lanes.length - 1;
      const rows = it.shown === it.total ? `${it.total} rows` : `${it.shown} of ${it.total} rows`;
      const seen = c.chat ? ` · ${c.chat} activities seen` : '';
      const meta = `${rows} · ${duration(c.end - c.start)} · ${sockets} socket${sockets === 1 ? '' : 's'}${seen}`;
      return h(
        'div',
        { class: 'row conv', style, 'data-conversation': c.key },
        c.live ? '● ' : '',
        c.label,
        h('span', { class: 'meta' }, meta),
      );
    }
    const r = it.row;
    const cls = ['row', r.kind, r.error ? 'err' : '', r.key === this.selected ? 'sel' : '', this.linked.has(r.key) ? 'linked' : '']
      .filter(Boolean)
      .join(' ');
    const el = h('div', {
      class: cls,
      style,
      'data-key': r.key,
      role: 'option',
      'aria-selected': r.key === this.selected ? 'true' : undefined,
    });
    el.append(h('span', { class: 't' }, seconds(r.t)));
    el.append(this.lanesElement(it));
    el.append(causeGutter(i, spans));
    el.append(h('span', { class: `dir ${r.dir ?? ''}` }, r.dir === 'up' ? '→' : r.dir === 'down' ? '←' : '·'));
    el.append(
      h(
        'span',
        { class: 'text', title: r.text },
        h('span', { class: 'kind' }, kindLabel(r)),
        r.text,
        r.wait !== undefined
          ? h('span', { class: 'wait', title: 'the wait after the client action that caused it' }, `+${duration(r.wait)} after its cause`)
          : null,
      ),
    );
    el.append(waterfall(it));
    return el;
  }

  private lanesElement(it: Item & { type: 'row' }): HTMLElement {
    const box = h('span', { class: 'lanes', style: `width:${this.lanes * LANE_WIDTH + 4}px` });
    const { row, conv } = it;
    conv.lanes.forEach((lane, j) => {
      if (j === 0) return;
      const alive = row.t >= lane.from && (lane.to === null || row.t <= lane.to);
      box.append(
        h('span', {
          class: `lane${alive ? ' alive' : ''}`,
          style: `left:${j * LANE_WIDTH + 6}px`,
          title: `${lane.label}${lane.end ? `, ${lane.end}` : ''}`,
        }),
      );
    });
    const dotClass = [
      'dot',
      row.kind === 'keepalive' || row.kind === 'ping' ? 'ka' : row.lane === 0 ? '' : (row.dir ?? ''),
      row.error ? 'err' : '',
    ]
      .filter(Boolean)
      .join(' ');
    box.append(h('span', { class: dotClass, style: `left:${row.lane * LANE_WIDTH + 6}px`, title: conv.lanes[row.lane]?.label ?? '' }));
    return box;
  }

  private renderAxis(topIndex: number): void {
    const conv: ConversationView | null = this.items[Math.min(topIndex, this.items.length - 1)]?.conv ?? null;
    this.axis.replaceChildren();
    if (!conv) return;
    const span = Math.max(1, conv.end - conv.start);
    const scrollbar = this.scroller.offsetWidth - this.scroller.clientWidth;
    const box = h('div', { style: `position:absolute;top:0;bottom:0;right:${scrollbar}px;width:${WATERFALL}px` });
    const step = niceStep(span / 4);
    for (let t = 0; t <= span; t += step) {
      box.append(
        h(
          'span',
          { style: `position:absolute;left:${(t / span) * WATERFALL}px;top:3px;border-left:1px solid #c9d1d9;padding-left:2px` },
          duration(t),
        ),
      );
    }
    this.axis.append(
      h(
        'span',
        {
          style:
            `position:absolute;left:8px;top:3px;right:${WATERFALL + scrollbar + 12}px;` +
            'overflow:hidden;text-overflow:ellipsis;white-space:nowrap',
        },
        `time axis of ${conv.label}`,
      ),
      box,
    );
  }
}

function kindLabel(r: RowView): string {
  switch (r.kind) {
    case 'http':
      return 'HTTP';
    case 'open':
      return 'open';
    case 'frame':
      return r.dir === 'down' ? 'frame' : 'client';
    case 'keepalive':
      return 'keep-alive';
    case 'ping':
      return 'ping';
    case 'close':
      return 'close';
    case 'session':
      return 'session';
    case 'match':
      return 'matched';
    case 'release':
      return 'released';
    case 'mismatch':
      return 'MISMATCH';
  }
}

function waterfall(it: Item & { type: 'row' }): HTMLElement {
  const { row, conv } = it;
  const span = Math.max(1, conv.end - conv.start);
  const x = (t: number) => Math.max(0, Math.min(WATERFALL, ((t - conv.start) / span) * WATERFALL));
  const box = h('span', { class: 'wf' });
  if (row.wait !== undefined && row.wait > 0) {
    box.append(
      h('span', {
        class: 'waitbar',
        style: `left:${x(row.t - row.wait)}px;width:${Math.max(1, x(row.t) - x(row.t - row.wait))}px`,
        title: `waited ${duration(row.wait)}`,
      }),
    );
  }
  const w = row.duration ? Math.max(2, x(row.t + row.duration) - x(row.t)) : 2;
  const cls = [
    'bar',
    row.kind === 'keepalive' || row.kind === 'ping' ? 'ka' : row.lane === 0 && row.kind !== 'release' ? '' : (row.dir ?? ''),
    row.error ? 'err' : '',
  ]
    .filter(Boolean)
    .join(' ');
  box.append(
    h('span', { class: cls, style: `left:${x(row.t)}px;width:${w}px`, title: row.duration ? duration(row.duration) : seconds(row.t) }),
  );
  return box;
}

/** Brackets from each shown cause row to the last shown row it caused, in as few columns as overlap needs. */
function causeSpans(items: Item[], indexOfKey: Map<string, number>): Span[] {
  const byCause = new Map<number, Span>();
  items.forEach((it, i) => {
    if (it.type !== 'row' || !it.row.cause) return;
    const start = indexOfKey.get(it.row.cause);
    if (start === undefined || start >= i) return;
    let s = byCause.get(start);
    if (!s) {
      s = { start, end: i, col: 0, effects: new Set() };
      byCause.set(start, s);
    }
    s.end = i;
    s.effects.add(i);
  });
  const spans = [...byCause.values()].sort((a, b) => a.start - b.start);
  const colEnds: number[] = [];
  for (const s of spans) {
    let col = colEnds.findIndex((end) => end < s.start);
    if (col === -1) col = colEnds.length;
    colEnds[col] = s.end;
    s.col = col;
  }
  return spans;
}

function causeGutter(i: number, spans: Span[]): HTMLElement {
  const cols = Math.min(3, Math.max(1, ...spans.map((s) => s.col + 1)));
  const box = h('span', { class: 'causes', style: `width:${cols * 10 + 8}px` });
  for (const s of spans) {
    if (s.col >= 3 || i < s.start || i > s.end) continue;
    const left = s.col * 10;
    if (i === s.start) {
      box.append(h('span', { class: 'cstart', style: `left:${left + 4}px`, title: 'a client action: the rows it caused are bracketed' }));
      box.append(h('span', { class: 'cline', style: `left:${left + 8}px;top:50%;bottom:0` }));
    } else {
      box.append(h('span', { class: 'cline', style: `left:${left + 8}px;top:0;${i === s.end ? 'height:50%' : 'bottom:0'}` }));
      if (s.effects.has(i)) box.append(h('span', { class: 'cend', style: `left:${left + 8}px` }));
    }
  }
  return box;
}

function niceStep(raw: number): number {
  const pow = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
  for (const m of [1, 2, 5, 10]) if (m * pow >= raw) return m * pow;
  return 10 * pow;
}
