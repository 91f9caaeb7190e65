// `diff` as a library: two cassettes compared as conversations and turns (see compare.ts, turns.ts).
import type { Cassette } from '../cassette/schema.js';
import { compareTurns } from './compare.js';
import { ActivityNormaliser } from './normalise.js';
import { cassetteTurns, volatileOf } from './turns.js';
import type { CassetteDiff, DiffOptions } from './types.js';

export interface DiffCassettesOptions extends DiffOptions {
  /** Names shown for the two sides (file names). */
  sourceA?: string;
  sourceB?: string;
}

/** Compares cassette A (the recording) with B (the new one). Throws JsonPathError for a bad ignore path. */
export function diffCassettes(a: Cassette, b: Cassette, opts: DiffCassettesOptions = {}): CassetteDiff {
  // One normaliser for both sides: either cassette's conversation ids are volatile in both.
  const normaliser = new ActivityNormaliser(opts.ignore ?? [], [volatileOf(a), volatileOf(b)]);
  return compareTurns(cassetteTurns(a, normaliser, opts.sourceA), cassetteTurns(b, normaliser, opts.sourceB), opts);
}

export { compareTurns } from './compare.js';
export { ActivityNormaliser, COMPARED_FIELDS } from './normalise.js';
export { renderDiffText, summaryLine } from './render-text.js';
export { renderJUnit } from './render-junit.js';
export { SIMILAR_TEXT_THRESHOLD, textSimilarity, normaliseText } from './text-similarity.js';
export type * from './types.js';
