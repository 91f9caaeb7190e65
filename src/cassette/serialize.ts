// Cassette text form: a pretty header and one event per line, so a re-recorded cassette diffs well in git
// and writing stays linear in the number of events.
import type { Cassette } from './schema.js';

export function stringifyCassette(c: Cassette): string {
  const { events, ...header } = c;
  const head = JSON.stringify(header, null, 2);
  const lines = events.map((e) => '    ' + JSON.stringify(e));
  const body = lines.length ? `[\n${lines.join(',\n')}\n  ]` : '[]';
  return `${head.slice(0, -2)},\n  "events": ${body}\n}\n`;
}
