// Synthetic tokens: JWT-shaped, unsigned, carrying the conversation (and instance), each one different even
// though their random parts come from one pool of CSPRNG bytes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mintToken } from '../../src/replay/tokens.js';

describe('mintToken', () => {
  it('mints distinct JWT-shaped tokens across pool refills', () => {
    const seen = new Set<string>();
    const tails = new Set<string>();
    for (let i = 0; i < 600; i++) {
      const t = mintToken(i % 2 ? 'token' : 'streamToken', 'conv-us_1', i);
      const [header, claims, tail] = t.split('.');
      assert.deepEqual(JSON.parse(Buffer.from(header, 'base64url').toString()), { alg: 'none', typ: 'JWT' });
      const c = JSON.parse(Buffer.from(claims, 'base64url').toString()) as Record<string, unknown>;
      assert.equal(c.conv, 'conv-us_1');
      assert.equal(c.session, i);
      assert.equal(Buffer.from(tail, 'base64url').length, 24);
      seen.add(t);
      tails.add(tail);
    }
    assert.equal(seen.size, 600);
    assert.equal(tails.size, 600, 'no random part handed out twice');
    const custom = new Set(Array.from({ length: 400 }, () => mintToken('custom', null, 1)));
    assert.equal(custom.size, 400);
    for (const c of custom) assert.match(c, /^vcr[0-9a-f]{24}$/);
  });

  it('carries the instance in a claim and in the last part', () => {
    const t = mintToken('token', 'c', 2, 'b');
    const claims = JSON.parse(Buffer.from(t.split('.')[1], 'base64url').toString()) as Record<string, unknown>;
    assert.equal(claims.inst, 'b');
    assert.match(t.split('.')[2], /^dlvcr-b-[0-9a-f]{48}$/);
  });
});
