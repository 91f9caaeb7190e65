// diffCassettes on real recordings from the emulator: two runs of one conversation are the same (ids,
// tokens, timestamps differ), stream against polling too; --ignore paths, --timing and --text similar.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startEmulator, changedBot, type BotScript } from '../emulator/index.js';
import { recordConversation } from '../support/conversation-recording.js';
import { tempDir } from '../support/fs.js';
import { diffCassettes } from '../../src/index.js';
import type { Cassette } from '../../src/cassette/schema.js';

async function record(bot: BotScript, transport: 'stream' | 'polling', file: string, turns = ['hello', 'bye']): Promise<Cassette> {
  const emu = await startEmulator({ bot });
  try {
    return await recordConversation({ upstream: emu.domain, secret: emu.secret, cassette: file, transport, turns });
  } finally {
    await emu.close();
  }
}

test('diff: two recordings of one conversation are the same, over the stream and polled, though every id differs', async () => {
  const tmp = await tempDir();
  try {
    const a = await record(changedBot(), 'stream', tmp.file('a.json'));
    const b = await record(changedBot(), 'stream', tmp.file('b.json'));
    const p = await record(changedBot(), 'polling', tmp.file('p.json'));
    assert.notEqual(a.events[0]!.conversationId, b.events[0]!.conversationId);
    const d = diffCassettes(a, b);
    assert.equal(d.equal, true, JSON.stringify(d.conversations));
    assert.deepEqual(d.summary.turns, { a: 3, b: 3, same: 3, changed: 0, added: 0, missing: 0 });
    // Polls never deliver typing, so typing is not compared when one side polled; everything else is.
    assert.equal(diffCassettes(a, p).equal, true);
    const changed = await record(changedBot({ replies: { bye: [{ text: 'Ciao' }] } }), 'polling', tmp.file('c.json'));
    const dc = diffCassettes(a, changed, { sourceA: 'a.json', sourceB: 'c.json' });
    assert.deepEqual(
      dc.conversations[0]!.turns.map((t) => t.verdict),
      ['same', 'same', 'changed'],
    );
    assert.deepEqual(dc.conversations[0]!.turns[2]!.changes, [{ path: 'replies[0].text', a: 'You said: bye', b: 'Ciao' }]);
    assert.deepEqual([dc.a, dc.b], [{ source: 'a.json' }, { source: 'c.json' }]);
  } finally {
    await tmp.cleanup();
  }
});

test('diff: a volatile field differs until --ignore names it, from the activity or from activities[*]', async () => {
  const tmp = await tempDir();
  try {
    const bot: BotScript = { reply: (u) => [{ text: `You said: ${u.text}`, channelData: { requestId: randomUUID(), kept: 'same' } }] };
    const a = await record(bot, 'stream', tmp.file('a.json'));
    const b = await record(bot, 'stream', tmp.file('b.json'));
    const plain = diffCassettes(a, b);
    assert.equal(plain.equal, false);
    assert.deepEqual(
      plain.conversations[0]!.turns.flatMap((t) => t.changes.map((c) => c.path)),
      ['replies[0].channelData.requestId', 'replies[0].channelData.requestId'],
    );
    for (const ignore of ['channelData.requestId', 'activities[*].channelData.requestId', '..requestId']) {
      assert.equal(diffCassettes(a, b, { ignore: [ignore] }).equal, true, ignore);
    }
    assert.equal(diffCassettes(a, b, { ignore: ['channelData.kept'] }).equal, false, 'another path leaves requestId compared');
    assert.throws(() => diffCassettes(a, b, { ignore: ['a[b'] }), /JSON path "a\[b"/);
  } finally {
    await tmp.cleanup();
  }
});

test('diff: --timing reports a turn whose first reply came later by more than the limit', async () => {
  const tmp = await tempDir();
  try {
    const a = await record(changedBot(), 'stream', tmp.file('a.json'));
    const b = await record(changedBot({ replies: { bye: [{ text: 'You said: bye', delayMs: 700 }] } }), 'stream', tmp.file('b.json'));
    const noTiming = diffCassettes(a, b, { ignore: [] });
    // Without typing first the reply list changed too; compare only what --timing adds.
    const withTiming = diffCassettes(a, b, { timingMs: 300 });
    const extra = withTiming.conversations[0]!.turns[2]!.changes.filter((c) => c.path === 'timing.firstReplyMs');
    assert.equal(
      noTiming.conversations[0]!.turns[2]!.changes.some((c) => c.path === 'timing.firstReplyMs'),
      false,
    );
    assert.equal(extra.length, 1);
    assert.ok((extra[0]!.b as number) - (extra[0]!.a as number) > 300, JSON.stringify(extra));
    assert.equal(withTiming.conversations[0]!.turns[1]!.changes.length, 0, 'the unchanged turn keeps its timing within 300 ms');
  } finally {
    await tmp.cleanup();
  }
});
