// The diff as a person reads it: a unified-diff-like block per conversation and per turn that differs
// (`-` what A has, `+` what B has), then one summary line. Colour only when asked (a TTY).
import { palette, type Palette } from '../inspect/ansi.js';
import type { CassetteDiff, ConversationDiff, FieldChange, TurnDiff } from './types.js';

export interface TextRenderOptions {
  color?: boolean;
  /** Longest rendering of one value before it is cut (characters); default 240. */
  valueWidth?: number;
  /** Also list the turns that are the same; default false. */
  verbose?: boolean;
}

export function renderDiffText(d: CassetteDiff, opts: TextRenderOptions = {}): string {
  const p = palette(Boolean(opts.color));
  const width = opts.valueWidth ?? 240;
  const lines: string[] = [p.bold(`--- a ${d.a.source ?? '(cassette A)'}`), p.bold(`+++ b ${d.b.source ?? '(cassette B)'}`)];
  for (const c of d.conversations) {
    if (c.verdict === 'same' && !opts.verbose) continue;
    lines.push(...conversationLines(c, p, width, Boolean(opts.verbose)));
  }
  lines.push(summaryLine(d, p));
  return lines.join('\n');
}

export function summaryLine(d: CassetteDiff, p: Palette = palette(false)): string {
  const t = d.summary.turns;
  const compared = `${d.summary.conversations.a} vs ${d.summary.conversations.b} conversation(s), ${t.a} vs ${t.b} turn(s)`;
  if (d.equal) return p.green(`same: ${compared}; nothing differs (text ${d.options.text}).`);
  const parts = [`${t.changed} changed`, `${t.missing} missing in b`, `${t.added} added in b`];
  return p.red(`different: ${compared}; ${parts.join(', ')}.`);
}

function conversationLines(c: ConversationDiff, p: Palette, width: number, verbose: boolean): string[] {
  const name = c.ordinalA !== null ? `conversation ${c.ordinalA + 1}` : `conversation ${c.ordinalB! + 1} of b`;
  const out: string[] = [];
  if (c.verdict === 'missing' || c.verdict === 'added') {
    out.push(p.cyan(`@@ ${name}: ${c.verdict === 'missing' ? 'only in a' : 'only in b'} (${c.turns.length} turn(s)) @@`));
    const sign = c.verdict === 'missing' ? p.red('-') : p.green('+');
    for (const t of c.turns) out.push(`${sign} ${t.label}`);
    return out;
  }
  const differing = c.turns.filter((t) => t.verdict !== 'same').length;
  out.push(p.cyan(`@@ ${name}: ${differing} of ${c.turns.length} turn(s) differ @@`));
  for (const ch of c.changes) out.push(...changeLines(ch, p, width));
  for (const t of c.turns) {
    if (t.verdict === 'same' && !verbose) continue;
    out.push(...turnLines(t, p, width));
  }
  return out;
}

function turnLines(t: TurnDiff, p: Palette, width: number): string[] {
  if (t.verdict === 'same') return [p.dim(`  ${t.label}: same`)];
  if (t.verdict === 'missing') return [p.red(`- ${t.label}: only in a`)];
  if (t.verdict === 'added') return [p.green(`+ ${t.label}: only in b`)];
  return [p.bold(`  ${t.label}:`), ...t.changes.flatMap((ch) => changeLines(ch, p, width).map((l) => `  ${l}`))];
}

function changeLines(ch: FieldChange, p: Palette, width: number): string[] {
  const out: string[] = [];
  if (ch.a !== undefined) out.push(p.red(`- ${ch.path}: ${show(ch.a, width)}`));
  if (ch.b !== undefined) out.push(p.green(`+ ${ch.path}: ${show(ch.b, width)}`));
  if (ch.a === undefined && ch.b === undefined) out.push(`  ${ch.path}`);
  return out;
}

function show(v: unknown, width: number): string {
  let s: string;
  try {
    s = typeof v === 'string' ? JSON.stringify(v) : (JSON.stringify(v) ?? String(v));
  } catch {
    s = String(v);
  }
  return s.length > width ? s.slice(0, width - 1) + '…' : s;
}
