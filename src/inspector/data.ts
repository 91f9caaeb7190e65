// What the inspector shows, in one place: the cassettes (static, or growing while a recorder captures),
// plus rows a live replay adds. Builds the page's view from the read model, answers detail and chat
// look-ups, and tells listeners when something changed (the live channel debounces and diffs).
import type { Cassette, CassetteEvent } from '../cassette/schema.js';
import { cassetteRows, EventIds, type CassetteRows } from './build-view.js';
import type { ChatActivity, ConversationView, InspectorView, RowDetail, RowView } from './view.js';

interface Entry {
  name: string;
  cassette: Cassette;
  /** A live cassette's events change in place: it is re-read (a fresh model) whenever it is touched. */
  live: boolean;
  built: CassetteRows | null;
}

/** Rows that are no cassette event (a live replay's sessions, matches, mismatches). */
export interface ExtraRows {
  conversations: ConversationView[];
  rows: RowView[];
  chats: Map<string, ChatActivity[]>;
  notes: Map<string, Record<string, unknown>>;
}

export class InspectorData {
  readonly ids = new EventIds();
  private readonly entries: Entry[] = [];
  private readonly listeners = new Set<() => void>();
  private json: Buffer | null = null;
  private extra: ExtraRows = { conversations: [], rows: [], chats: new Map(), notes: new Map() };

  constructor(
    readonly title: string,
    readonly live: InspectorView['live'],
    readonly webChat: boolean,
  ) {}

  /** Adds a cassette; `live` when its events array grows while it is shown (a recording). */
  addCassette(cassette: Cassette, name: string, live = false): number {
    this.entries.push({ name, cassette, live, built: null });
    return this.entries.length - 1;
  }

  cassette(index: number): Cassette | undefined {
    return this.entries[index]?.cassette;
  }

  /** Key of the row that shows this event (cassette `ci`), for live rows that link to it. */
  rowKey(ci: number, event: CassetteEvent): string {
    return this.ids.keyOf(ci, event);
  }

  /** Something in cassette `ci` changed (a live capture); listeners learn of it. */
  touch(ci: number): void {
    const e = this.entries[ci];
    if (e) e.built = null;
    this.changed();
  }

  setExtra(extra: ExtraRows): void {
    this.extra = extra;
    this.changed();
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The view as JSON, kept until something changes (a static cassette is serialised once). */
  viewJson(): Buffer {
    this.json ??= Buffer.from(JSON.stringify(this.view()));
    return this.json;
  }

  view(): InspectorView {
    const built = this.entries.map((_, i) => this.built(i));
    return {
      title: this.title,
      live: this.live,
      webChat: this.webChat,
      cassettes: built.map((b) => b.cassette),
      conversations: [...built.flatMap((b) => b.conversations), ...this.extra.conversations],
      rows: [...built.flatMap((b) => b.rows), ...this.extra.rows],
    };
  }

  /** The built rows of cassette `ci` (cached until it is touched). */
  built(ci: number): CassetteRows {
    const e = this.entries[ci];
    if (!e.built) {
      // readModel caches per cassette object and a live cassette changes in place: a shallow copy gets a fresh model.
      const c = e.live
        ? { ...e.cassette, events: [...e.cassette.events], redaction: { placeholders: { ...e.cassette.redaction.placeholders } } }
        : e.cassette;
      e.built = cassetteRows(c, ci, e.name, this.ids);
    }
    return e.built;
  }

  chat(conversation: string): ChatActivity[] | undefined {
    const fromExtra = this.extra.chats.get(conversation);
    if (fromExtra) return fromExtra;
    const ci = Number(conversation.split('/')[0]);
    if (!Number.isInteger(ci) || !this.entries[ci]) return undefined;
    return this.built(ci).chat(conversation);
  }

  detail(key: string): RowDetail | undefined {
    const found = this.ids.find(key);
    if (found) {
      return { key, event: found.event, placeholders: { ...this.entries[found.cassette].cassette.redaction.placeholders } };
    }
    const note = this.extra.notes.get(key);
    if (!note) return undefined;
    const placeholders = Object.assign({}, ...this.entries.map((e) => e.cassette.redaction.placeholders)) as Record<string, string>;
    return { key, event: null, note, placeholders };
  }

  private changed(): void {
    this.json = null;
    for (const l of this.listeners) l();
  }
}
