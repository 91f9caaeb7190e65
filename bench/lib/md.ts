// Markdown helpers for BENCHMARKS.md.

/** A markdown table; columns whose cells are all numbers (or empty) are right-aligned. */
export function table(head: string[], rows: Array<Array<string | number>>): string {
  const cell = (v: string | number) => String(v).replace(/\|/g, '\\|');
  const numeric = (i: number) => rows.every((r) => r[i] === undefined || r[i] === '' || /^[-+≤≥]?\s?[\d.,]+/.test(String(r[i])));
  return [
    `| ${head.map(cell).join(' | ')} |`,
    `| ${head.map((_, i) => (i > 0 && numeric(i) ? '---:' : '---')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
}

export function fmt(x: number, digits = 2): string {
  if (x === undefined || x === null || Number.isNaN(x)) return '–';
  if (!Number.isFinite(x)) return String(x);
  return x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

export const x = (r: number) => `${fmt(r, 2)}×`;

export function targetsTable(
  targets: Array<{ what: string; target: string; measured: string; met: boolean; note?: string; bench?: string }>,
): string {
  const withBench = targets.some((t) => t.bench);
  const result = (t: { met: boolean; note?: string }) => `${t.met ? '✅ met' : '❌ **MISSED**'}${t.note ? ` (${t.note})` : ''}`;
  return withBench
    ? table(
        ['benchmark', 'check', 'target', 'measured', 'result'],
        targets.map((t) => [t.bench ?? '', t.what, t.target, t.measured, result(t)]),
      )
    : table(
        ['check', 'target', 'measured', 'result'],
        targets.map((t) => [t.what, t.target, t.measured, result(t)]),
      );
}
