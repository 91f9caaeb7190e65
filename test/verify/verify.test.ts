// verifyCassette against the emulator: a recording re-driven against the unchanged bot is the same though
// every id, token and timestamp differs; a bot that changed one reply, a card, answers one message fewer
// or fails is reported at exactly that turn and field; WebSocket and polling recordings, an upload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator, changedBot, type BotChanges, type BotReplyStep } from '../emulator/index.js';
import { recordConversation, type ScriptedTurn } from '../support/conversation-recording.js';
import { tempDir } from '../support/fs.js';
import { verifyCassette, type TurnDiff, type VerifyResult } from '../../src/index.js';
import type { Cassette } from '../../src/cassette/schema.js';

const heroCard = (title: string) => ({
  contentType: 'application/vnd.microsoft.card.hero',
  content: {
    title,
    buttons: [
      { type: 'imBack', title: 'Tea', value: 'tea' },
      { type: 'imBack', title: 'Coffee', value: 'coffee' },
    ],
  },
});
const cardReply = (title: string): BotReplyStep[] => [
  { type: 'typing' },
  { type: 'message', delayMs: 50, text: 'Our menu', attachments: [heroCard(title)] },
];
/** The bot as recorded: the default bot, plus a card for "menu". */
const BASE: BotChanges = { replies: { menu: cardReply('Drinks') } };
const TURNS: ScriptedTurn[] = ['hello', 'menu', 'how are you', 'bye'];
const SETTLE = 800;

async function recordWith(transport: 'stream' | 'polling', file: string, turns: ScriptedTurn[] = TURNS): Promise<Cassette> {
  const emu = await startEmulator({ bot: changedBot(BASE) });
  try {
    return await recordConversation({ upstream: emu.domain, secret: emu.secret, cassette: file, transport, turns });
  } finally {
    await emu.close();
  }
}

async function verifyAgainst(changes: BotChanges, cassette: string, out?: string): Promise<VerifyResult & { uploads: number }> {
  const emu = await startEmulator({ bot: changedBot({ ...BASE, ...changes, replies: { ...BASE.replies, ...changes.replies } }) });
  try {
    const r = await verifyCassette({ cassette, upstream: emu.domain, secret: emu.secret, settleMs: SETTLE, out });
    return { ...r, uploads: emu.requests.filter((q) => q.method === 'POST' && q.path.includes('/upload')).length };
  } finally {
    await emu.close();
  }
}

const differing = (r: VerifyResult): TurnDiff[] => r.diff.conversations.flatMap((c) => c.turns.filter((t) => t.verdict !== 'same'));
const paths = (t: TurnDiff) => t.changes.map((c) => c.path);

for (const transport of ['stream', 'polling'] as const) {
  test(`verify (${transport}): the unchanged bot gives no difference, though ids, tokens and timestamps all differ`, async () => {
    const tmp = await tempDir();
    try {
      const recorded = await recordWith(transport, tmp.file('rec.json'));
      const r = await verifyAgainst({}, tmp.file('rec.json'), tmp.file('new.json'));
      assert.equal(r.equal, true, JSON.stringify(r.diff.conversations));
      assert.deepEqual(r.diff.summary.turns, { a: 5, b: 5, same: 5, changed: 0, added: 0, missing: 0 });
      assert.equal(r.out, tmp.file('new.json'));
      // What differs on every run does differ: conversation ids, activity ids and timestamps.
      const ids = (c: Cassette) => [...new Set(c.events.map((e) => e.conversationId).filter(Boolean))];
      assert.equal(ids(recorded).length, 1);
      assert.notDeepEqual(ids(r.recording), ids(recorded));
      const stamps = (c: Cassette): string[] => JSON.stringify(c.events).match(/"timestamp":"[^"]+"/g) ?? [];
      assert.ok(stamps(recorded).length >= 5);
      assert.equal(stamps(recorded).filter((s) => stamps(r.recording).includes(s)).length, 0, 'no timestamp is the same');
      // The new recording went through the recorder: redacted like `record` does.
      const text = JSON.stringify(r.recording);
      assert.match(text, /Bearer DLVCR_SECRET_1/);
      assert.match(text, /DLVCR_TOKEN_\d/);
      assert.ok(!/eyJ[A-Za-z0-9_-]{4,}\./.test(text), 'no token in clear');
      const routes = r.recording.events.flatMap((e) => (e.type === 'http' ? [e.route as string] : []));
      if (transport === 'stream')
        assert.ok(
          r.recording.events.some((e) => e.type === 'ws.open'),
          'the new recording used the stream',
        );
      else
        assert.ok(routes.includes('activities.get') && !r.recording.events.some((e) => e.type === 'ws.open'), 'the new recording polled');
    } finally {
      await tmp.cleanup();
    }
  });

  test(`verify (${transport}): a changed reply or card, one message fewer and a failing bot are named by turn and field`, async () => {
    const tmp = await tempDir();
    try {
      await recordWith(transport, tmp.file('rec.json'));
      const typingShift = transport === 'stream' ? 1 : 0; // polls never deliver typing
      const reply = (i: number) => `replies[${i + typingShift}]`;

      const text = await verifyAgainst(
        { replies: { 'how are you': [{ type: 'typing' }, { text: 'Fine, thanks', delayMs: 50 }] } },
        tmp.file('rec.json'),
      );
      assert.equal(text.equal, false);
      assert.deepEqual(
        differing(text).map((t) => [t.label, paths(t)]),
        [['turn 3 "how are you"', [`${reply(0)}.text`]]],
      );
      assert.deepEqual(differing(text)[0]!.changes[0], { path: `${reply(0)}.text`, a: 'You said: how are you', b: 'Fine, thanks' });

      const card = await verifyAgainst({ replies: { menu: cardReply('Snacks') } }, tmp.file('rec.json'));
      assert.deepEqual(
        differing(card).map((t) => [t.label, paths(t)]),
        [['turn 2 "menu"', [`${reply(0)}.attachments[0].content.title`]]],
      );

      const fewer = await verifyAgainst({ fewerOn: ['hello'] }, tmp.file('rec.json'));
      assert.deepEqual(
        differing(fewer).map((t) => [t.label, paths(t)]),
        [['turn 1 "hello"', [reply(0)]]],
      );
      assert.deepEqual(differing(fewer)[0]!.changes[0]!.a, { type: 'message', text: 'You said: hello' });
      assert.equal(differing(fewer)[0]!.changes[0]!.b, undefined);

      const failing = await verifyAgainst({ failOn: ['bye'] }, tmp.file('rec.json'));
      const [bye, ...others] = differing(failing);
      assert.equal(others.length, 0);
      assert.equal(bye!.label, 'turn 4 "bye"');
      assert.deepEqual(bye!.changes.slice(0, 2), [
        { path: 'status', a: 200, b: 502 },
        { path: 'errorCode', a: undefined, b: 'BotError' },
      ]);
      assert.deepEqual(
        paths(bye!).slice(2),
        transport === 'stream' ? ['replies[0]', 'replies[1]'] : ['replies[0]'],
        'and its replies are missing',
      );
    } finally {
      await tmp.cleanup();
    }
  });
}

test('verify: a recording with an upload re-sends the files and compares the answer', async () => {
  const tmp = await tempDir();
  try {
    const turns: ScriptedTurn[] = [
      'hello',
      {
        upload: [
          { name: 'note.txt', type: 'text/plain', data: 'a note' },
          { name: 'pic.png', type: 'image/png', data: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 255]) },
        ],
        text: 'two files',
      },
      'bye',
    ];
    await recordWith('stream', tmp.file('rec.json'), turns);
    const same = await verifyAgainst({}, tmp.file('rec.json'));
    assert.equal(same.equal, true, JSON.stringify(differing(same)));
    assert.equal(same.uploads, 1, 'the upload was sent to the live bot');
    const upload = same.diff.conversations[0]!.turns[2]!;
    assert.equal(upload.label, 'turn 2 "two files" with 2 file(s)');
    // The echo in the new recording names the same files.
    const echo = same.recording.events
      .flatMap((e) => (e.type === 'ws.message' && 'json' in e.data ? ((e.data.json as any).activities ?? []) : []))
      .find((a: any) => a.text === 'two files');
    assert.deepEqual(
      echo.attachments.map((a: any) => [a.name, a.contentType]),
      [
        ['note.txt', 'text/plain'],
        ['pic.png', 'image/png'],
      ],
    );

    const changed = await verifyAgainst({ replies: { 'two files': [{ text: 'Got your files' }] } }, tmp.file('rec.json'));
    assert.deepEqual(
      differing(changed).map((t) => t.label),
      ['turn 2 "two files" with 2 file(s)'],
    );
  } finally {
    await tmp.cleanup();
  }
});

test('verify: --text similar tolerates reworded answers but not a changed structure; --text ignore compares structure only', async () => {
  const tmp = await tempDir();
  try {
    await recordWith('stream', tmp.file('rec.json'));
    const emu = await startEmulator({
      bot: changedBot({ replies: { ...BASE.replies, hello: [{ type: 'typing' }, { text: 'You said : Hello!', delayMs: 50 }] } }),
    });
    try {
      const opts = { cassette: tmp.file('rec.json'), upstream: emu.domain, secret: emu.secret, settleMs: SETTLE };
      assert.equal((await verifyCassette(opts)).equal, false, 'exact: the wording changed');
      assert.equal((await verifyCassette({ ...opts, text: 'similar' })).equal, true, 'similar: same answer, other punctuation and case');
      const strict = await verifyCassette({ ...opts, text: 'similar', similarity: 1.01 });
      assert.equal(strict.equal, false, 'a threshold above 1 accepts nothing that differs');
    } finally {
      await emu.close();
    }
    const card = await startEmulator({
      bot: changedBot({
        replies: {
          menu: [
            { type: 'typing' },
            { text: 'Completely different words here', attachments: [heroCard('Drinks'), heroCard('More')], delayMs: 50 },
          ],
        },
      }),
    });
    try {
      const r = await verifyCassette({
        cassette: tmp.file('rec.json'),
        upstream: card.domain,
        secret: card.secret,
        settleMs: SETTLE,
        text: 'ignore',
      });
      assert.deepEqual(
        differing(r).map((t) => [t.label, paths(t)]),
        [['turn 2 "menu"', ['replies[1].attachments[1]']]],
        'the wording is ignored, the extra card is not',
      );
    } finally {
      await card.close();
    }
  } finally {
    await tmp.cleanup();
  }
});

test('verify: without a secret or a token it refuses to start, naming where they come from', async () => {
  const tmp = await tempDir();
  const saved = { s: process.env.DIRECTLINE_SECRET, t: process.env.DIRECTLINE_TOKEN };
  delete process.env.DIRECTLINE_SECRET;
  delete process.env.DIRECTLINE_TOKEN;
  try {
    await recordWith('stream', tmp.file('rec.json'), ['hello']);
    await assert.rejects(
      verifyCassette({ cassette: tmp.file('rec.json'), upstream: 'http://127.0.0.1:9/v3/directline' }),
      /DIRECTLINE_SECRET \(or DIRECTLINE_TOKEN\)/,
    );
  } finally {
    if (saved.s !== undefined) process.env.DIRECTLINE_SECRET = saved.s;
    if (saved.t !== undefined) process.env.DIRECTLINE_TOKEN = saved.t;
    await tmp.cleanup();
  }
});

test('verify: with only a token (DIRECTLINE_TOKEN) the one conversation is re-driven on it', async () => {
  const tmp = await tempDir();
  try {
    await recordWith('stream', tmp.file('rec.json'), ['hello', 'bye']);
    const emu = await startEmulator({ bot: changedBot(BASE) });
    try {
      const gen = await (
        await fetch(`${emu.domain}/tokens/generate`, {
          method: 'POST',
          headers: { authorization: `Bearer ${emu.secret}`, 'content-type': 'application/json' },
          body: JSON.stringify({ user: { id: 'dl_tester' } }),
        })
      ).json();
      const r = await verifyCassette({ cassette: tmp.file('rec.json'), upstream: emu.domain, token: gen.token, settleMs: SETTLE });
      assert.equal(r.equal, true, JSON.stringify(differing(r)));
      assert.equal(
        emu.requests.filter((q) => q.path.endsWith('/tokens/generate')).length,
        1,
        'no token generated by verify: it had no secret',
      );
    } finally {
      await emu.close();
    }
  } finally {
    await tmp.cleanup();
  }
});
