// Small statistics helpers for the benchmarks: medians of rounds, percentiles of samples, ratios.

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Nearest-rank percentile (p in 0..100) of unsorted samples. */
export function percentile(xs: ArrayLike<number>, p: number): number {
  if (xs.length === 0) return NaN;
  const s = Float64Array.from(xs).sort();
  const rank = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[rank];
}

export function summarize(xs: ArrayLike<number>): { n: number; p50: number; p90: number; p99: number; max: number; mean: number } {
  const s = Float64Array.from(xs).sort();
  const at = (p: number) => (s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] : NaN);
  let sum = 0;
  for (const x of s) sum += x;
  return {
    n: s.length,
    p50: at(50),
    p90: at(90),
    p99: at(99),
    max: s.length ? s[s.length - 1] : NaN,
    mean: s.length ? sum / s.length : NaN,
  };
}

export function ratio(a: number, b: number): number {
  return b === 0 ? NaN : a / b;
}

export function round(x: number, digits = 2): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Order of the modes in round r: rotated so that no mode always runs first (or last) on a noisy machine. */
export function rotation<T>(modes: readonly T[], r: number): T[] {
  const k = r % modes.length;
  return [...modes.slice(k), ...modes.slice(0, k)];
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
