// Whether a frame's text can be stored as it is: canonicalJson(text) returns exactly what
// JSON.stringify(JSON.parse(text)) would, or null, by one scan that builds no objects. The recorder then keeps
// the text and splices it into the event's line (body.ts, serialize.ts) instead of parsing and re-serialising
// every stream frame. Whatever the scan does not vouch for gets null and goes the slow way (JSON.parse), so a
// null is always safe: string escapes, control characters and lone surrogates, whitespace between tokens, keys
// that start with a digit (JSON.stringify puts integer-like keys first), repeated keys, numbers JavaScript
// cannot hold (beyond ±1.8e308), nesting deeper than MAX_SCAN_DEPTH, anything after the top-level value.
// Numbers written in another form than JavaScript's (1.50, 1E3, -0) are rewritten in the result.

/** Deeper nesting is left to JSON.parse (and the depth limit of body.ts). */
export const MAX_SCAN_DEPTH = 64;

// Anything that makes a string's text differ from its value, or that JSON.stringify would escape.
const UNSAFE = /[\u0000-\u001f\\]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

// Scratch space, reused from call to call (the scan is synchronous): per open container whether it is an
// object and where its keys begin in `keys`; the keys as [start, end) offsets into the text.
const isObject: boolean[] = [];
const keysFrom: number[] = [];
const keys: number[] = [];

/** JSON.stringify(JSON.parse(text)) when the scan can vouch for it (text itself when it is compact already), else null. */
export function canonicalJson(text: string): string | null {
  const first = text.charCodeAt(0);
  if ((first !== OPEN_OBJECT && first !== OPEN_ARRAY) || UNSAFE.test(text)) return null;
  const n = text.length;
  let i = 0;
  let depth = 0;
  let keyCount = 0;
  // Rewritten numbers: pieces of the result, and how far the text is copied into them.
  let pieces: string[] | null = null;
  let copied = 0;
  for (;;) {
    // A value is expected at i.
    const c = text.charCodeAt(i);
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth > MAX_SCAN_DEPTH) return null;
      const obj = c === OPEN_OBJECT;
      isObject[depth] = obj;
      keysFrom[depth] = keyCount;
      i++;
      if (text.charCodeAt(i) === (obj ? CLOSE_OBJECT : CLOSE_ARRAY)) {
        i++;
        depth--;
      } else {
        if (obj) {
          i = key(text, i, keysFrom[depth], keyCount);
          if (i < 0) return null;
          keyCount++;
        }
        continue;
      }
    } else if (c === QUOTE) {
      const end = text.indexOf('"', i + 1);
      if (end < 0) return null;
      i = end + 1;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      const start = i;
      let simple = true;
      if (c === 0x2d) i++;
      const d0 = text.charCodeAt(i);
      if (!(d0 >= 0x30 && d0 <= 0x39)) return null;
      for (;;) {
        const d = text.charCodeAt(i);
        if (d >= 0x30 && d <= 0x39) i++;
        else if (d === 0x2e || d === 0x65 || d === 0x45 || d === 0x2b || d === 0x2d) {
          simple = false;
          i++;
        } else break;
      }
      const digits = i - start - (c === 0x2d ? 1 : 0);
      // An integer of up to 15 digits without a leading zero is written by JavaScript as it is (but not -0).
      if (!simple || digits > 15 || (d0 === 0x30 && (digits > 1 || c === 0x2d))) {
        const src = text.slice(start, i);
        if (!NUMBER.test(src)) return null;
        const v = Number(src);
        if (!Number.isFinite(v)) return null;
        const canon = String(v);
        if (canon !== src) {
          pieces ??= [];
          pieces.push(text.slice(copied, start), canon);
          copied = i;
        }
      }
    } else if (text.startsWith('true', i)) i += 4;
    else if (text.startsWith('false', i)) i += 5;
    else if (text.startsWith('null', i)) i += 4;
    else return null;
    // After a value: a separator, or the end of containers.
    for (;;) {
      if (depth === 0) {
        if (i !== n) return null;
        return pieces ? pieces.join('') + text.slice(copied) : text;
      }
      const s = text.charCodeAt(i);
      if (s === COMMA) {
        i++;
        if (isObject[depth]) {
          i = key(text, i, keysFrom[depth], keyCount);
          if (i < 0) return null;
          keyCount++;
        }
        break;
      }
      if (s !== (isObject[depth] ? CLOSE_OBJECT : CLOSE_ARRAY)) return null;
      keyCount = keysFrom[depth];
      depth--;
      i++;
    }
  }
}

/**
 * Reads `"key":` at i (recording it at keys[at]); returns where its value begins, or -1 when the key is not
 * one the scan vouches for: none, one starting with a digit, or one the object had already (from `from`).
 */
function key(text: string, i: number, from: number, at: number): number {
  if (text.charCodeAt(i) !== QUOTE) return -1;
  const start = i + 1;
  const end = text.indexOf('"', start);
  if (end < 0 || text.charCodeAt(end + 1) !== COLON) return -1;
  const d = text.charCodeAt(start);
  if (d >= 0x30 && d <= 0x39) return -1;
  const len = end - start;
  for (let k = from; k < at; k++) {
    const s = keys[2 * k];
    if (keys[2 * k + 1] - s === len && text.charCodeAt(s) === d && text.startsWith(text.slice(start, end), s)) return -1;
  }
  keys[2 * at] = start;
  keys[2 * at + 1] = end;
  return end + 2;
}
