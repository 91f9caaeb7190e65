// Redactor.text: known secrets are replaced inside longer strings; the fast paths (too short for any known
// secret, no "eyJ" for a JWT) change nothing that the full search would have replaced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redactor } from '../../src/cassette/redact.js';

test('a known secret is replaced wherever it appears; strings too short to hold one come back as they are', () => {
  const r = new Redactor();
  const secret = 'Sx7Qk2P9vLm4Tz8Rw1Yb5Nc3'; // 24 characters
  const placeholder = r.value(secret, 'secret');
  assert.equal(r.text(`the key is ${secret}, keep it`), `the key is ${placeholder}, keep it`);
  assert.equal(r.text(secret), placeholder);
  const short = 'hello there, friend!'; // 20 < 24: cannot hold it
  assert.equal(r.text(short), short);
  // A shorter secret learnt later lowers the bar: a 12-character one is found in a 20-character string.
  const p2 = r.value('K9m2X7q4Z1w8', 'secret');
  assert.equal(r.text('key=K9m2X7q4Z1w8 ok'), `key=${p2} ok`);
});

test('JWT-shaped tokens are replaced; text without "eyJ" is untouched', () => {
  const r = new Redactor();
  const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlLXBhcnQ';
  const out = r.text(`Bearer-ish ${jwt} inside`);
  assert.match(out, /^Bearer-ish DLVCR_TOKEN_1 inside$/);
  assert.equal(r.text('plain words and numbers 1234567890'), 'plain words and numbers 1234567890');
});
