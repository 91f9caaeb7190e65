// The diff as JUnit XML for CI dashboards: one <testsuite> per conversation, one <testcase> per turn,
// a <failure> on every turn that changed, is missing in B or was added in B.
import type { CassetteDiff, FieldChange, TurnDiff } from './types.js';

export interface JUnitOptions {
  /** Name of the outer <testsuites>, e.g. the cassette file. */
  name?: string;
}

export function renderJUnit(d: CassetteDiff, opts: JUnitOptions = {}): string {
  const suites: string[] = [];
  let tests = 0;
  let failures = 0;
  for (const c of d.conversations) {
    const name = c.ordinalA !== null ? `conversation ${c.ordinalA + 1}` : `conversation ${c.ordinalB! + 1} (only in b)`;
    const cases = c.turns.map((t) => testCase(name, t));
    // Changes outside the turns (a start that now fails) are a case of their own.
    if (c.changes.length) cases.unshift(failureCase(name, 'conversation requests', 'requests around the turns differ', c.changes));
    const failed = c.turns.filter((t) => t.verdict !== 'same').length + (c.changes.length ? 1 : 0);
    tests += cases.length;
    failures += failed;
    suites.push(
      `  <testsuite name="${attr(name)}" tests="${cases.length}" failures="${failed}" errors="0" ` +
        `skipped="0">\n${cases.join('\n')}\n  </testsuite>`,
    );
  }
  const title = opts.name ?? `directline-vcr diff ${d.a.source ?? 'a'} ${d.b.source ?? 'b'}`;
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="${attr(title)}" tests="${tests}" failures="${failures}" ` +
    `errors="0">\n${suites.join('\n')}\n</testsuites>\n`
  );
}

function testCase(suite: string, t: TurnDiff): string {
  if (t.verdict === 'same') return `    <testcase classname="${attr(suite)}" name="${attr(t.label)}"/>`;
  if (t.verdict === 'missing') return failureCase(suite, t.label, 'the turn is missing in b', []);
  if (t.verdict === 'added') return failureCase(suite, t.label, 'the turn was added in b', []);
  return failureCase(suite, t.label, `changed: ${[...new Set(t.changes.map((c) => c.path))].join(', ')}`, t.changes);
}

function failureCase(suite: string, name: string, message: string, changes: FieldChange[]): string {
  const body = changes.map((c) => `${c.path}\n  a: ${show(c.a)}\n  b: ${show(c.b)}`).join('\n');
  return (
    `    <testcase classname="${attr(suite)}" name="${attr(name)}">\n      <failure message="${attr(message)}" ` +
    `type="drift">${text(body)}</failure>\n    </testcase>`
  );
}

function show(v: unknown): string {
  if (v === undefined) return '(none)';
  try {
    const s = JSON.stringify(v);
    return s.length > 2000 ? s.slice(0, 1999) + '…' : s;
  } catch {
    return String(v);
  }
}

// Characters XML 1.0 cannot carry at all (most C0 controls, lone surrogates, U+FFFE/U+FFFF) become U+FFFD.
const NOT_XML =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function text(s: string): string {
  return s.replace(NOT_XML, '\uFFFD').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function attr(s: string): string {
  return text(s).replace(/"/g, '&quot;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}
