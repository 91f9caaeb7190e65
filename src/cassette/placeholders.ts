// The placeholder vocabulary, defined once: what redaction writes in place of a secret, how every reader
// recognises one, and what kind of value it stands for. A cassette also stores its own table
// (`redaction.placeholders`: placeholder → kind); readers ask that table first (placeholderKind).
export type PlaceholderKind = 'secret' | 'token' | 'streamToken' | 'custom';

export const PLACEHOLDER_PREFIX = 'DLVCR_';

const LABEL: Record<PlaceholderKind, string> = { secret: 'SECRET', token: 'TOKEN', streamToken: 'STREAMTOKEN', custom: 'CUSTOM' };
const KIND_OF_LABEL = new Map(Object.entries(LABEL).map(([kind, label]) => [label, kind as PlaceholderKind]));

const ONE = /^DLVCR_(SECRET|TOKEN|STREAMTOKEN|CUSTOM)_\d+$/;
/** Every placeholder inside a longer string (global: use with replace / matchAll). */
export const PLACEHOLDERS_IN_TEXT = /DLVCR_(?:SECRET|TOKEN|STREAMTOKEN|CUSTOM)_\d+/g;

/** The n-th placeholder of a kind, e.g. DLVCR_TOKEN_3. */
export function placeholderName(kind: PlaceholderKind, n: number): string {
  return `${PLACEHOLDER_PREFIX}${LABEL[kind]}_${n}`;
}

/** Whether a whole string is one placeholder. */
export function isPlaceholder(value: string): boolean {
  return ONE.test(value);
}

/** Whether a string has a placeholder in it (cheap check before a replace). */
export function mayHoldPlaceholder(value: string): boolean {
  return value.includes(PLACEHOLDER_PREFIX);
}

/**
 * What a placeholder stands for: the cassette's own table when it names it, else what its name says
 * (hand-made cassettes, or placeholders written before the table existed). Undefined for a non-placeholder.
 */
export function placeholderKind(placeholder: string, table?: Readonly<Record<string, string>>): PlaceholderKind | undefined {
  const recorded = table && Object.hasOwn(table, placeholder) ? table[placeholder] : undefined;
  if (recorded === 'secret' || recorded === 'token' || recorded === 'streamToken' || recorded === 'custom') return recorded;
  const m = ONE.exec(placeholder);
  return m ? KIND_OF_LABEL.get(m[1]) : undefined;
}
