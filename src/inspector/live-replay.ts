// The inspector on a running replay (`replay --inspector`): the cassette's timeline, and beside it each
// live session as it happens: requests matched to recorded ones, recorded items released to it, and
// every mismatch (what arrived, what was expected next) in red.
import type { Cassette, HttpEvent } from '../cassette/schema.js';
import { readModel } from '../model/index.js';
import { localAttachmentUrls } from './attachments.js';
import { routePolicy } from '../protocol/routes.js';
import type { ReplayEvent, ReplayObserver } from '../replay/observer.js';
import { activitiesLine, chatActivityOf } from './build-view.js';
import { InspectorData } from './data.js';
import { createInspectorHandler, resolveWebChat, type InspectorHandler } from './handler.js';
import { LIVE_PREFIX, type LiveInspectorOptions } from './live-record.js';
import type { ChatActivity, ConversationView, RowView } from './view.js';

interface LiveSession {
  conversation: ConversationView;
  rows: RowView[];
  chat: ChatActivity[];
}

/** Rows of requests no session took (unknown conversation or bearer, a stream nobody started). */
const STRAY = 'live/-';

export function replayInspector(
  cassette: Cassette,
  name: string,
  opts: LiveInspectorOptions = {},
): { handler: InspectorHandler; observe: ReplayObserver } {
  const bundle = resolveWebChat(opts.bundle);
  const data = new InspectorData(`replaying ${name}`, 'replay', Boolean(bundle));
  const cassetteIndex = data.addCassette(cassette, name);
  const model = readModel(cassette);
  const sessions = new Map<number | null, LiveSession>();
  const notes = new Map<string, Record<string, unknown>>();
  let n = 0;

  // A released item is found among the recorded rows by its conversation and recorded time.
  const recordedAt = new Map<string, string>();
  for (const c of model.conversations) {
    for (const e of c.events) if (e.event.type === 'ws.message') recordedAt.set(`${c.ordinal}:${e.event.t}`, data.rowKey(0, e.event));
  }
  const keyOf = (ev: HttpEvent | null) => (ev ? data.rowKey(0, ev) : undefined);

  const sessionOf = (key: number | null, at: number, label?: string): LiveSession => {
    let s = sessions.get(key);
    if (!s) {
      s = {
        conversation: {
          key: key === null ? STRAY : `live/${key}`,
          cassette: 0,
          id: null,
          label: label ?? 'requests no live session took',
          start: at,
          end: at,
          chat: 0,
          live: true,
          lanes: [
            { label: 'http', ordinal: 0, from: at, to: null },
            { label: 'released', ordinal: 1, from: at, to: null },
          ],
        },
        rows: [],
        chat: [],
      };
      sessions.set(key, s);
    }
    return s;
  };

  const add = (s: LiveSession, row: Omit<RowView, 'key' | 'conversation'>, note?: Record<string, unknown>): void => {
    const full: RowView = { key: `l${++n}`, conversation: s.conversation.key, ...row };
    s.rows.push(full);
    s.conversation.end = Math.max(s.conversation.end, row.t);
    if (note) notes.set(full.key, note);
  };

  const observe: ReplayObserver = (e: ReplayEvent) => {
    if (e.kind === 'session') {
      const s = sessionOf(
        e.session,
        e.at,
        `live session ${e.session}${e.liveId ? ` (${e.liveId})` : ''} ⇐ recorded ${e.recordedId ?? `#${e.recordedOrdinal + 1}`}`,
      );
      s.conversation.id = e.liveId;
      add(s, {
        t: e.at,
        kind: 'session',
        lane: 0,
        dir: null,
        types: [],
        text: `session ${e.session} started over recorded conversation ${e.recordedId ?? `#${e.recordedOrdinal + 1}`}`,
      });
    } else if (e.kind === 'matched') {
      const s = sessionOf(e.session, e.at);
      add(s, {
        t: e.at,
        kind: 'match',
        lane: 0,
        dir: 'up',
        route: e.route,
        method: e.method,
        status: e.status,
        types: [],
        text: `✓ ${e.method} ${e.route} → ${e.status}${recordedAtText(e.recorded)}`,
        ...(e.recorded ? { recorded: keyOf(e.recorded) } : {}),
        turn: routePolicy(e.route).cause ? true : undefined,
      });
    } else if (e.kind === 'mismatch') {
      const s = sessionOf(e.session, e.at);
      const received = e.received.activity as { type?: string; text?: string } | undefined;
      const receivedText = received ? ` ${received.type ?? ''} “${received.text ?? ''}”` : '';
      add(
        s,
        {
          t: e.at,
          kind: 'mismatch',
          lane: 0,
          dir: 'up',
          route: e.route,
          method: e.method,
          status: e.status,
          types: received?.type ? [received.type] : [],
          error: true,
          turn: true,
          text: `✕ mismatch ${e.method} ${e.route} → ${e.status}${receivedText}: ${e.reason}`,
          ...(e.recorded ? { recorded: keyOf(e.recorded) } : {}),
        },
        { mismatch: { status: e.status, reason: e.reason, received: e.received, expected: e.expected } },
      );
    } else {
      const s = sessionOf(e.session, e.at);
      const text =
        e.item === 'activities'
          ? activitiesLine(e.activities, e.activities.length)
          : e.item === 'keepalive'
            ? 'keep-alive'
            : e.item === 'close'
              ? `close ${e.code ?? ''}`
              : 'frame';
      add(s, {
        t: e.at,
        kind: 'release',
        lane: 1,
        dir: 'down',
        text: `released ${text}`,
        types:
          e.item === 'keepalive' ? ['keepalive'] : [...new Set(e.activities.map((a) => (typeof a.type === 'string' ? a.type : 'unknown')))],
        ...(recordedAt.has(`${e.recordedOrdinal}:${e.recordedT}`)
          ? { recorded: recordedAt.get(`${e.recordedOrdinal}:${e.recordedT}`) }
          : {}),
      });
      for (const a of e.activities) {
        if (a.type === 'typing') continue;
        s.chat.push(chatActivityOf(localAttachmentUrls(a, cassette, cassetteIndex), model.roleOf(a), s.rows[s.rows.length - 1].key));
      }
      s.conversation.chat = s.chat.length;
    }
    const all = [...sessions.values()];
    data.setExtra({
      conversations: all.map((s) => s.conversation),
      rows: all.flatMap((s) => s.rows),
      chats: new Map(all.map((s) => [s.conversation.key, s.chat])),
      notes,
    });
  };

  const handler = createInspectorHandler({ data, prefix: LIVE_PREFIX, bundle, logger: opts.logger, allowRemote: opts.allowRemote });
  return { handler, observe };
}

function recordedAtText(recorded: HttpEvent | null): string {
  return recorded ? ` (recorded at +${(recorded.t / 1000).toFixed(3)}s)` : ' (answered without a recorded request)';
}
