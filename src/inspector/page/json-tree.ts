// Pretty, collapsible JSON (native <details>), with redaction placeholders marked as such.
import { h } from './dom.js';

const PLACEHOLDER = /DLVCR_(?:SECRET|TOKEN|STREAMTOKEN|CUSTOM)_\d+/g;

export interface TreeOptions {
  /** Placeholder → kind, from the cassette's table. */
  placeholders: Record<string, string>;
  /** Objects and arrays at this depth or deeper start closed. Default 3. */
  openDepth?: number;
}

export function jsonTree(value: unknown, opts: TreeOptions): HTMLElement {
  const root = h('div', { class: 'json' });
  root.append(node(undefined, value, 0, opts, true));
  return root;
}

function node(key: string | undefined, value: unknown, depth: number, opts: TreeOptions, last: boolean): Node {
  const comma = last ? '' : ',';
  const label = key === undefined ? null : h('span', { class: 'k' }, JSON.stringify(key), ': ');
  if (value !== null && typeof value === 'object') {
    const isArray = Array.isArray(value);
    const entries: Array<[string | undefined, unknown]> = isArray
      ? (value as unknown[]).map((v) => [undefined, v])
      : Object.entries(value as object);
    const [open, close] = isArray ? ['[', ']'] : ['{', '}'];
    if (entries.length === 0) return h('div', { class: 'kv' }, label, `${open}${close}${comma}`);
    const d = h('details', depth < (opts.openDepth ?? 3) && entries.length <= 60 ? { open: true } : null);
    d.append(
      h(
        'summary',
        null,
        label,
        open,
        h('span', { class: 'count' }, ` ${entries.length} ${isArray ? 'item' : 'key'}${entries.length === 1 ? '' : 's'} `),
      ),
    );
    for (const [i, [k, v]] of entries.entries()) d.append(node(k, v, depth + 1, opts, i === entries.length - 1));
    d.append(h('div', { class: 'kv', style: 'margin-left:-14px' }, `${close}${comma}`));
    return d;
  }
  return h('div', { class: 'kv' }, label, scalar(value, opts), comma);
}

function scalar(value: unknown, opts: TreeOptions): Node {
  if (typeof value === 'string') return h('span', { class: 's' }, ...withPlaceholders(JSON.stringify(value), opts.placeholders));
  if (typeof value === 'number') return h('span', { class: 'n' }, String(value));
  if (typeof value === 'boolean') return h('span', { class: 'b' }, String(value));
  return h('span', { class: 'z' }, 'null');
}

/** Text with every placeholder in a <mark class="ph"> that says what it stands for. */
export function withPlaceholders(text: string, table: Record<string, string>): Node[] {
  const out: Node[] = [];
  let at = 0;
  for (const m of text.matchAll(PLACEHOLDER)) {
    const i = m.index ?? 0;
    if (i > at) out.push(document.createTextNode(text.slice(at, i)));
    const kind = table[m[0]] ?? 'placeholder';
    out.push(h('mark', { class: 'ph', title: `placeholder for a ${kind}: the recorded value was redacted`, 'data-kind': kind }, m[0]));
    at = i + m[0].length;
  }
  if (at < text.length) out.push(document.createTextNode(text.slice(at)));
  return out;
}
