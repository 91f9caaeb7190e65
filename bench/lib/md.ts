// Markdown helpers for BENCHMARKS.md.

export function table(head: string[], rows: Array<Array<string | number>>): string {
  const cell = (v: string | number) => String(v).replace(/\|/g, '\\|');
  return [
    `| ${head.map(cell).join(' | ')} |`,
    `| ${head.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
}

export function fmt(x: number, digits = 2): string {
  if (x === undefined || x === null || Number.isNaN(x)) return '–';
  if (!Number.isFinite(x)) return String(x);
  return x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

export const x = (r: number) => `${fmt(r, 2)}×`;

export function targetsTable(targets: Array<{ what: string; target: string; measured: string; met: boolean }>): string {
  return table(['check', 'target', 'measured', 'result'], targets.map((t) => [t.what, t.target, t.measured, t.met ? '✅ met' : '❌ **MISSED**']));
}
