// canonicalJson: whenever it vouches for a text, its answer is exactly JSON.stringify(JSON.parse(text)); it
// vouches for the compact JSON a Direct Line stream carries. Checked on generated values written in many
// forms (spacing, escapes, number forms, repeated and integer-like keys, deep nesting) and on broken texts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson, MAX_SCAN_DEPTH } from '../../src/cassette/compact-json.js';

/** A small deterministic PRNG (mulberry32), so a failure reproduces. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STRINGS = [
  '',
  'a',
  'hello world',
  'x"y',
  'back\\slash',
  'line\nbreak',
  'tab\t',
  'é ü ß',
  '😀 emoji',
  '\u2028',
  'id',
  'di',
  '0',
  '12',
];
const NUMBERS = [
  '0',
  '-0',
  '1',
  '-17',
  '1.5',
  '1.50',
  '1e3',
  '1E3',
  '1e+3',
  '2.5e-7',
  '123456789012345',
  '1234567890123456789',
  '0.1',
  '1e400',
  '-1e400',
];
const KEYS = ['type', 'id', 'text', 'from', 'name', '0', '7', 'a b', 'k"q', 'ключ', '__proto__', 'di'];

function value(r: () => number, depth: number): string {
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
  const x = r();
  if (depth > 3 || x < 0.35) {
    const y = r();
    if (y < 0.4) return JSON.stringify(pick(STRINGS));
    if (y < 0.5) return `"${pick(['\\u0041', '\\/', '\\n', 'plain'])}"`; // escapes written by hand
    if (y < 0.85) return pick(NUMBERS);
    return pick(['true', 'false', 'null']);
  }
  const sep = () => (r() < 0.1 ? pick([' ', '\n', '\t']) : '');
  if (x < 0.65) {
    const n = Math.floor(r() * 4);
    return `[${sep()}${Array.from({ length: n }, () => value(r, depth + 1)).join(`${sep()},${sep()}`)}${sep()}]`;
  }
  const n = Math.floor(r() * 4);
  const members = Array.from({ length: n }, () => `${JSON.stringify(pick(KEYS))}${sep()}:${sep()}${value(r, depth + 1)}`);
  return `{${sep()}${members.join(',')}${sep()}}`;
}

test('whatever canonicalJson vouches for is exactly JSON.stringify(JSON.parse(text))', () => {
  const r = rng(18);
  let vouched = 0;
  let rewritten = 0;
  for (let k = 0; k < 20_000; k++) {
    const text = `{"v":${value(r, 0)}}`;
    const got = canonicalJson(text);
    if (got === null) continue;
    vouched++;
    if (got !== text) rewritten++;
    assert.equal(got, JSON.stringify(JSON.parse(text)), `for ${JSON.stringify(text)}`);
  }
  // The generator makes plenty of texts the scan can take, some with numbers to rewrite.
  assert.ok(vouched > 2_000, `vouched for ${vouched}`);
  assert.ok(rewritten > 200, `rewrote ${rewritten}`);
});

test('broken or trailing text is never vouched for', () => {
  const r = rng(7);
  for (let k = 0; k < 5_000; k++) {
    const good = `[${value(r, 0)},${value(r, 0)}]`;
    const at = Math.floor(r() * good.length);
    for (const bad of [good.slice(0, at), good.slice(0, at) + good.slice(at + 1), `${good}x`, `${good} `, `${good}]`]) {
      let valid = true;
      try {
        JSON.parse(bad);
      } catch {
        valid = false;
      }
      const got = canonicalJson(bad);
      if (!valid) assert.equal(got, null, `broken ${JSON.stringify(bad)}`);
      else if (got !== null) assert.equal(got, JSON.stringify(JSON.parse(bad)));
    }
  }
});

test('a Direct Line ActivitySet in compact form is vouched for as it is; the slow way gets what the scan leaves', () => {
  const frame =
    '{"activities":[{"type":"message","id":"c1|0000001","timestamp":"2026-01-01T00:00:00.0000000Z","channelId":"directline",' +
    '"from":{"id":"bot","name":"Bot","role":"bot"},"conversation":{"id":"c1"},"text":"Lorem ipsum, dolor: [sit] {amet}",' +
    '"attachments":[],"entities":[{"type":"x","n":-12,"f":0.25,"ok":true,"none":null}],' +
    '"channelData":{"seq":1,"sentAt":1764627045123.456}}],' +
    '"watermark":"1"}';
  assert.equal(canonicalJson(frame), frame);
  assert.equal(
    canonicalJson(frame.replace('1764627045123.456', '1764627045123.450')),
    frame.replace('1764627045123.456', '1764627045123.45'),
  );
  assert.equal(canonicalJson('{"a":1,"b":{"a":2},"c":[{"a":3}]}'), '{"a":1,"b":{"a":2},"c":[{"a":3}]}', 'the same key in other objects');
  for (const slow of [
    '{"a":1,"a":2}',
    '{"1":"x","b":2}',
    '{"t":"a\\u0041"}',
    '{"t":"\ud800"}',
    '{ "a":1}',
    '"top-level string"',
    '[1e400]',
  ]) {
    assert.equal(canonicalJson(slow), null, slow);
  }
  const deep = '['.repeat(MAX_SCAN_DEPTH + 1) + ']'.repeat(MAX_SCAN_DEPTH + 1);
  assert.equal(canonicalJson(deep), null, 'deeper than MAX_SCAN_DEPTH');
  const ok = '['.repeat(MAX_SCAN_DEPTH) + ']'.repeat(MAX_SCAN_DEPTH);
  assert.equal(canonicalJson(ok), ok);
});
