// How two bot texts compare under --text: exact (the default), ignore (any text equals any text, so
// only structure is compared) or similar, for bots whose wording changes from run to run (LLMs).
//
// similar: both texts are normalised (Unicode NFKC, lower case, punctuation and symbols removed,
// whitespace folded), then compared by the Sørensen–Dice coefficient of their character bigrams:
// 2·|common bigrams| / (|bigrams of a| + |bigrams of b|), from 0 (nothing in common) to 1 (same
// normalised text). Texts are similar when it is at least the threshold, SIMILAR_TEXT_THRESHOLD (0.5)
// unless --similarity says otherwise. Linear in the texts' length, so long answers cost little.
import type { TextMode } from './types.js';

/** Least Dice similarity of two normalised texts that `--text similar` counts as the same answer. */
export const SIMILAR_TEXT_THRESHOLD = 0.5;

/** Lower case, NFKC, letters/digits/spaces only, whitespace folded. */
export function normaliseText(s: string): string {
  return s
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\p{P}\p{S}]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Sørensen–Dice coefficient of the character bigrams of two normalised texts (1 when both are empty). */
export function textSimilarity(a: string, b: string): number {
  const x = normaliseText(a);
  const y = normaliseText(b);
  if (x === y) return 1;
  if (x.length < 2 || y.length < 2) return 0;
  const counts = new Map<string, number>();
  for (let i = 0; i < x.length - 1; i++) {
    const g = x.slice(i, i + 2);
    counts.set(g, (counts.get(g) ?? 0) + 1);
  }
  let common = 0;
  for (let i = 0; i < y.length - 1; i++) {
    const g = y.slice(i, i + 2);
    const n = counts.get(g) ?? 0;
    if (n > 0) {
      common++;
      counts.set(g, n - 1);
    }
  }
  return (2 * common) / (x.length - 1 + y.length - 1);
}

/** Whether two texts count as the same under a text mode. */
export function textsMatch(a: string, b: string, mode: TextMode, threshold = SIMILAR_TEXT_THRESHOLD): boolean {
  if (mode === 'ignore') return true;
  if (mode === 'exact') return a === b;
  return textSimilarity(a, b) >= threshold;
}
