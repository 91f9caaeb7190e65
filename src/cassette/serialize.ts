// Cassette text form: a pretty header, then one event per line, then the redaction table, so that a
// re-recorded cassette diffs well in git and the file can be written incrementally:
//
//   {                                  ┐
//     "version": 1,                    │ head: everything but events and redaction, pretty-printed,
//     …                                │ in the object's key order; written once
//     "events": [                      ┘
//       {"type":"ws.open",…},          ┐ one line per event, written once, when first persisted
//       {"type":"ws.message",…}        ┘
//     ],                               ┐ tail: rewritten on every write (the placeholders grow while
//     "redaction": {                   │ recording), at the byte offset where the previous tail began
//       "placeholders": {…}            │
//     }                                │
//   }                                  ┘
//
// The pieces below are what both the full writer (stringifyCassette) and the incremental one
// (append-file.ts) are made of, so both produce the same bytes. Loaders do not care about key order.
import type { Cassette, CassetteEvent } from './schema.js';
import { frameJson } from './body.js';

/** Everything before the first event line: the header keys, then `"events": [`. */
export function cassetteHead(c: Cassette): string {
  const { events: _events, redaction: _redaction, ...header } = c;
  const text = JSON.stringify(header, null, 2);
  // `{\n  "version": 1,\n  …\n}` → drop the closing `\n}` and continue the object.
  return text === '{}' ? '{\n  "events": [' : `${text.slice(0, -2)},\n  "events": [`;
}

/** The text of event `index` in the file: a separator (a comma after the previous line) and the line. */
export function cassetteEventLine(e: CassetteEvent, index: number): string {
  return (index === 0 ? '\n    ' : ',\n    ') + eventJson(e);
}

const FRAME_KEYS = ['type', 't', 'conversationId', 'socket', 'from', 'data'];

function hasKeys(o: object, keys: readonly string[]): boolean {
  const own = Object.keys(o);
  if (own.length !== keys.length) return false;
  for (let i = 0; i < keys.length; i++) if (own[i] !== keys[i]) return false;
  return true;
}

/** JSON.stringify(e), but a stream frame kept as its compact text (body.ts jsonFrame) is spliced in, not re-serialised. */
export function eventJson(e: CassetteEvent): string {
  if (e.type === 'ws.message') {
    const data = frameJson(e.data);
    if (data !== undefined) {
      // The same bytes as JSON.stringify(e), for an event with the keys Capture.wsMessage gives it, in that order.
      if (hasKeys(e, FRAME_KEYS)) {
        const head = `{"type":"ws.message","t":${JSON.stringify(e.t)},"conversationId":${JSON.stringify(e.conversationId)}`;
        return `${head},"socket":${JSON.stringify(e.socket)},"from":${JSON.stringify(e.from)},"data":${data}}`;
      }
      const { data: _data, ...rest } = e;
      return `${JSON.stringify(rest).slice(0, -1)},"data":${data}}`;
    }
  }
  return JSON.stringify(e);
}

/** Everything after the last event line: closes the events array, the redaction table, the object. */
export function cassetteTail(c: Pick<Cassette, 'redaction'>, eventCount: number): string {
  // `{\n  "redaction": {…}\n}` → keep `\n  "redaction": {…}\n}` (indented as a key of the cassette).
  const close = eventCount === 0 ? ']' : '\n  ]';
  const redaction = JSON.stringify({ redaction: c.redaction }, null, 2);
  return redaction === '{}' ? `${close}\n}\n` : `${close},${redaction.slice(1)}\n`;
}

/** The whole cassette text, with its first `eventCount` events (default: all). */
export function stringifyCassette(c: Cassette, eventCount = c.events.length): string {
  const n = Math.min(eventCount, c.events.length);
  const parts: string[] = [cassetteHead(c)];
  for (let i = 0; i < n; i++) parts.push(cassetteEventLine(c.events[i], i));
  parts.push(cassetteTail(c, n));
  return parts.join('');
}
