// Dependency-free SVG charts for BENCHMARKS.md: horizontal bars, optionally with a target line.

export interface Bar {
  label: string;
  value: number;
  /** Text after the bar (default: the value). */
  text?: string;
  /** Colour class: 'ref' (the limit / reference), 'ok', 'miss'. */
  kind?: 'ref' | 'ok' | 'miss';
}

const COLORS = { ref: '#8c99a6', ok: '#2e8b57', miss: '#c0392b' } as const;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function barChart(opts: {
  title: string;
  unit: string;
  bars: Bar[];
  target?: { value: number; label: string };
  width?: number;
}): string {
  const width = opts.width ?? 720;
  const labelW = 250;
  const textW = 130;
  const rowH = 26;
  const top = 54;
  const plotW = width - labelW - textW;
  const max = Math.max(...opts.bars.map((b) => b.value), opts.target?.value ?? 0) * 1.05 || 1;
  const height = top + opts.bars.length * rowH + 34;
  const sx = (v: number) => labelW + (Math.max(0, v) / max) * plotW;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="13">',
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="12" y="24" font-size="15" font-weight="600" fill="#222">${esc(opts.title)}</text>`,
  ];
  opts.bars.forEach((b, i) => {
    const y = top + i * rowH;
    parts.push(`<text x="${labelW - 8}" y="${y + 17}" text-anchor="end" fill="#333">${esc(b.label)}</text>`);
    parts.push(
      `<rect x="${labelW}" y="${y + 4}" width="${Math.max(1, sx(b.value) - labelW).toFixed(1)}" height="${rowH - 8}" ` +
        `fill="${COLORS[b.kind ?? 'ref']}" rx="2"/>`,
    );
    parts.push(`<text x="${(sx(b.value) + 6).toFixed(1)}" y="${y + 17}" fill="#222">${esc(b.text ?? `${b.value}`)}</text>`);
  });
  const axisY = top + opts.bars.length * rowH + 4;
  parts.push(`<line x1="${labelW}" y1="${top}" x2="${labelW}" y2="${axisY}" stroke="#999"/>`);
  parts.push(`<text x="${labelW}" y="${axisY + 18}" fill="#666">0</text>`);
  parts.push(
    `<text x="${labelW + plotW}" y="${axisY + 18}" text-anchor="end" ` +
      `fill="#666">${esc(`${Math.round(max).toLocaleString('en-US')} ${opts.unit}`)}</text>`,
  );
  if (opts.target) {
    const tx = sx(opts.target.value).toFixed(1);
    parts.push(`<line x1="${tx}" y1="${top - 4}" x2="${tx}" y2="${axisY}" stroke="#d35400" stroke-width="2" stroke-dasharray="5,4"/>`);
    parts.push(`<text x="${tx}" y="${top - 8}" text-anchor="middle" fill="#d35400" font-size="12">${esc(opts.target.label)}</text>`);
  }
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
