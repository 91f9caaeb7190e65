// Synthetic tokens the replayer hands out in place of the cassette's placeholders. They are JWT-shaped
// (Web Chat decodes the conversation token looking for a `user` claim, and tolerates none) but unsigned
// (alg "none", random third part), carry no user claim, and never look like a DLVCR_ placeholder.
import { randomBytes } from 'node:crypto';
import type { PlaceholderKind } from '../cassette/placeholders.js';

const HEADER = b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }));

/**
 * Random bytes are drawn from a pool refilled from the CSPRNG 4 KB at a time: one randomBytes call per
 * ~80 tokens instead of three per token (each call costs a few µs; sessions start at thousands per second).
 * Every byte is handed out once.
 */
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let used = 0;

function random(n: number): Buffer {
  if (used + n > pool.length) {
    pool = randomBytes(POOL_BYTES);
    used = 0;
  }
  const bytes = pool.subarray(used, used + n);
  used += n;
  return bytes;
}

/** The kind of value a synthetic one stands in for: the kinds of the cassette's placeholders. */
export type SyntheticKind = PlaceholderKind;

/**
 * A fresh synthetic value for one placeholder of one session. With an instance id (src/replay/instance.ts)
 * the token carries it in an `inst` claim and in its last part, `dlvcr-<instance>-<random hex>`.
 */
export function mintToken(kind: SyntheticKind, conversationId: string | null, session: number, instance?: string): string {
  if (kind === 'custom') return `vcr${random(12).toString('hex')}`;
  const now = Math.floor(Date.now() / 1000);
  const ttl = kind === 'streamToken' ? 60 : 3600;
  const claims: Record<string, unknown> = {
    iss: 'directline-vcr-replay',
    kind,
    session,
    jti: random(9).toString('base64url'),
    nbf: now,
    exp: now + ttl,
  };
  if (conversationId !== null) claims.conv = conversationId;
  if (instance !== undefined) claims.inst = instance;
  const tail = instance === undefined ? random(24).toString('base64url') : `dlvcr-${instance}-${random(24).toString('hex')}`;
  return `${HEADER}.${b64url(JSON.stringify(claims))}.${tail}`;
}

function b64url(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64url');
}
