// A few ANSI SGR colours, or none: every printer takes a palette so plain and coloured output share one code path.

export interface Palette {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  blue(s: string): string;
  magenta(s: string): string;
  cyan(s: string): string;
}

const sgr = (open: number, close: number) => (s: string) => (s === '' ? s : `\x1b[${open}m${s}\x1b[${close}m`);

export const COLOR: Palette = {
  bold: sgr(1, 22),
  dim: sgr(2, 22),
  red: sgr(31, 39),
  green: sgr(32, 39),
  yellow: sgr(33, 39),
  blue: sgr(34, 39),
  magenta: sgr(35, 39),
  cyan: sgr(36, 39),
};

const same = (s: string) => s;
export const PLAIN: Palette = { bold: same, dim: same, red: same, green: same, yellow: same, blue: same, magenta: same, cyan: same };

export function palette(color: boolean): Palette {
  return color ? COLOR : PLAIN;
}

/** Removes SGR escapes (for width calculations and tests). */
export function stripAnsi(s: string): string {
  return s.replace(/\x1b\[[0-9;]*m/g, '');
}
