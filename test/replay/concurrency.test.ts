// Many clients replaying one cassette at once: each gets its own session (conversation id, tokens, frames)
// and the whole conversation; cassettes with several conversations are handed out in order, cycling.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { startReplayer, type Replayer } from '../../src/replay/index.js';
import { CassetteBuilder, ConversationScript, WS_CONV, WS_TEXTS, wsCassette } from './fixtures.js';
import { StreamClient, startConversation, userMessage } from './helpers.js';
import { call } from '../support/http.js';

const open: Replayer[] = [];
after(async () => {
  await Promise.all(open.map((r) => r.close()));
});

describe('sessions', () => {
  it("100 concurrent clients each get their own full conversation and never see another one's frames", async () => {
    const r = await startReplayer({ cassette: wsCassette(), speed: 4 });
    open.push(r);
    const N = 100;
    const started = performance.now();
    const results = await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        const conv = await startConversation(r.domain, { userId: `dl_client-${i}` });
        const stream = new StreamClient(conv.streamUrl);
        await stream.opened;
        const path = `/conversations/${conv.conversationId}/activities`;
        await stream.arrivalOf('Welcome to the emulator bot!', 15000);
        for (const [text, until] of [
          ['hello', 'You said: hello'],
          ['burst 3', 'burst 3/3'],
          ['slow', 'slow reply'],
        ] as const) {
          const res = await call(r.domain, 'POST', path, { bearer: conv.token, body: userMessage(text, conv.userId, `cid-${i}-${text}`) });
          assert.equal(res.status, 200);
          await stream.arrivalOf(until, 15000);
        }
        stream.close();
        return { i, conv, activities: stream.activities(), texts: stream.texts() };
      }),
    );
    const elapsed = performance.now() - started;
    console.log(`# ${N} concurrent clients replayed the conversation in ${elapsed.toFixed(0)} ms`);
    const ids = new Set<string>();
    const tokens = new Set<string>();
    for (const { i, conv, activities, texts } of results) {
      assert.deepEqual(texts, WS_TEXTS, `client ${i}`);
      ids.add(conv.conversationId);
      tokens.add(conv.token);
      for (const a of activities) {
        assert.ok(a.id!.startsWith(conv.conversationId + '|'), `client ${i} got ${a.id}`);
        if (a.from?.role === 'user') {
          assert.equal(a.from.id, `dl_client-${i}`);
          assert.ok((a.channelData!.clientActivityID as string).startsWith(`cid-${i}-`));
        }
      }
    }
    assert.equal(ids.size, N);
    assert.equal(tokens.size, N);
    const s = r.summary();
    assert.equal(s.conversations, N);
    assert.equal(s.unmatched, 0);
  });

  it('hands out recorded conversations in order, cycling; later requests find their session by id or token', async () => {
    const b = new CassetteBuilder();
    for (const [n, id] of ['First', 'Second'].entries()) {
      const c = new ConversationScript(b, `${id}CCCCCCCCCCCCCCCCC-us`);
      const t0 = n * 1000;
      c.generate(t0, { token: `DLVCR_TOKEN_${n * 2 + 1}` });
      c.start(t0 + 50, {
        bearer: `DLVCR_TOKEN_${n * 2 + 1}`,
        token: `DLVCR_TOKEN_${n * 2 + 2}`,
        streamToken: `DLVCR_STREAMTOKEN_${n + 1}`,
      });
      c.open(t0 + 100, { streamToken: `DLVCR_STREAMTOKEN_${n + 1}` });
      c.frame(t0 + 120, [c.bot(`welcome from ${id}`)], '0');
    }
    const r = await startReplayer({ cassette: b.build(), speed: 0 });
    open.push(r);
    const welcomes: string[] = [];
    for (let i = 0; i < 3; i++) {
      const conv = await startConversation(r.domain);
      const stream = new StreamClient(conv.streamUrl);
      await stream.waitFor(() => stream.texts().length > 0);
      welcomes.push(stream.texts()[0]);
      stream.close();
    }
    assert.deepEqual(welcomes, ['welcome from First', 'welcome from Second', 'welcome from First']);
    // a start with a token this replay minted belongs to that token's session; repeated, it answers 200 with the
    // same conversation, as the service does, and uses nothing up
    const gen = await call(r.domain, 'POST', '/tokens/generate', { bearer: 'x' });
    assert.equal(gen.body.conversationId, `SecondCCCCCCCCCCCCCCCCC-us_4`);
    const st = await call(r.domain, 'POST', '/conversations', { bearer: gen.body.token, body: {} });
    assert.equal(st.body.conversationId, gen.body.conversationId);
    const again = await call(r.domain, 'POST', '/conversations', { bearer: gen.body.token, body: {} });
    assert.equal(st.status, 201);
    assert.equal(again.status, 200);
    assert.equal(again.body.conversationId, gen.body.conversationId);
    assert.notEqual(again.body.streamUrl, st.body.streamUrl, 'a fresh stream token');
    assert.equal(r.summary().conversations, 4);
    assert.equal(r.summary().unmatched, 0);
    assert.ok(!WS_CONV.includes('CCCC'));
  });
});
