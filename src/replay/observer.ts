// What a running replay reports as it happens, for whoever watches (the live inspector): sessions
// starting, requests matched to recorded ones, mismatches (what arrived and what was expected), and
// recorded items released to a session. `at` is milliseconds since the replay server started.
import type { HttpEvent } from '../cassette/schema.js';
import type { RouteName } from '../protocol/routes.js';
import type { Activity } from '../protocol/types.js';
import type { ConversationModel, StreamItem } from './conversation-model.js';

export type ReplayEvent =
  | { kind: 'session'; at: number; session: number; liveId: string | null; recordedOrdinal: number; recordedId: string | null }
  | {
      kind: 'matched';
      at: number;
      session: number;
      method: string;
      path: string;
      route: RouteName;
      status: number;
      recorded: HttpEvent | null;
    }
  | {
      kind: 'mismatch';
      at: number;
      session: number | null;
      method: string;
      path: string;
      route: RouteName;
      status: number;
      reason: string;
      received: Record<string, unknown>;
      expected: Record<string, unknown> | null;
      recorded: HttpEvent | null;
    }
  | {
      kind: 'released';
      at: number;
      session: number;
      item: 'activities' | 'keepalive' | 'raw' | 'close';
      recordedT: number;
      recordedOrdinal: number;
      activities: Activity[];
      code?: number;
    };

export type ReplayObserver = (event: ReplayEvent) => void;

/** The `released` report of a stream item (its activities read from the session's log), to be stamped with `at`. */
export function releasedEvent(
  session: number,
  model: ConversationModel,
  item: StreamItem,
): Omit<Extract<ReplayEvent, { kind: 'released' }>, 'at'> {
  return {
    kind: 'released',
    session,
    item: item.kind,
    recordedT: item.t,
    recordedOrdinal: model.ordinal,
    activities: item.kind === 'activities' ? item.entries.map((i) => model.log[i].activity) : [],
    ...(item.kind === 'close' ? { code: item.code } : {}),
  };
}
