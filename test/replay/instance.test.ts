// replay --instance: the ids and tokens a replay process mints name it (src/replay/instance.ts), so a
// reverse proxy can route on them (examples/scale-out/); bad instance ids and public URLs are refused.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkInstanceId, instanceOfConversationId, instanceOfToken, liveConversationId } from '../../src/replay/instance.js';
import { startReplayer, type Replayer } from '../../src/replay/index.js';
import { mintToken } from '../../src/replay/tokens.js';
import { startConversation } from './helpers.js';
import { wsCassette, WS_CONV } from './fixtures.js';
import { call } from '../support/http.js';

const open: Replayer[] = [];
after(async () => {
  await Promise.all(open.map((r) => r.close()));
});

function claimsOf(token: string): Record<string, unknown> {
  const [, payload] = token.split('.');
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
}

describe('instance ids', () => {
  it('go into conversation ids and tokens, where they can be read back', () => {
    assert.equal(liveConversationId('Ab3-us', 7, undefined), 'Ab3-us_7');
    assert.equal(liveConversationId('Ab3-us', 7, 'replay-0'), 'Ab3-us.replay-0_7');
    assert.equal(instanceOfConversationId('Ab3-us.replay-0_7'), 'replay-0');
    assert.equal(instanceOfConversationId('a.b-us.x_1'), 'x', 'the last mark counts');
    assert.equal(instanceOfConversationId('Ab3-us_7'), null);
    const token = mintToken('token', 'Ab3-us.b_1', 1, 'b');
    assert.equal(token.split('.').length, 3, 'still JWT-shaped');
    assert.equal(claimsOf(token).inst, 'b');
    assert.equal(instanceOfToken(token), 'b');
    assert.equal(instanceOfToken(mintToken('token', 'Ab3-us_1', 1)), null);
    assert.equal(claimsOf(mintToken('token', 'Ab3-us_1', 1)).inst, undefined);
    for (const bad of ['', 'a.b', 'a_b', '-a', 'a-', 'x'.repeat(33), 'ü'])
      assert.throws(() => checkInstanceId(bad), /instance must be/, bad);
    assert.equal(checkInstanceId('replay-12'), 'replay-12');
  });

  it('a replayer with an instance names it in every conversation id and token it hands out', async () => {
    const r = await startReplayer({ cassette: wsCassette(), speed: 0, instance: 'east-1' });
    open.push(r);
    const conv = await startConversation(r.domain);
    assert.equal(conv.conversationId, `${WS_CONV}.east-1_1`);
    assert.equal(instanceOfToken(conv.generated!.body.token), 'east-1');
    assert.equal(instanceOfToken(conv.token), 'east-1');
    assert.equal(instanceOfToken(new URL(conv.streamUrl).searchParams.get('t')!), 'east-1');
    const refreshed = await call(r.domain, 'POST', '/tokens/refresh', { bearer: conv.token });
    assert.equal(refreshed.status, 200);
    assert.equal(instanceOfToken(refreshed.body.token), 'east-1');
    // a conversation id minted by another instance is not resumed here: the proxy sent it to the wrong process
    const elsewhere = await call(r.domain, 'GET', `/conversations/${WS_CONV}.west-2_1/activities`, { bearer: conv.token });
    assert.equal(elsewhere.status, 404);
    assert.match(elsewhere.body.error.message, /started by replay instance west-2, and this is instance east-1/);
  });

  it('bad instance ids and public URLs are refused at start', async () => {
    await assert.rejects(
      startReplayer({ cassette: wsCassette(), instance: 'a.b' }),
      /instance must be 1–32 letters, digits or inner hyphens.*"a\.b"/,
    );
    await assert.rejects(startReplayer({ cassette: wsCassette(), publicUrl: 'nginx:8080' }), /publicUrl must be an absolute http/);
  });
});
