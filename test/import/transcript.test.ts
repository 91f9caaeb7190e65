// Importing a Bot Framework .transcript: a transcript exported from a recorded cassette replays to
// botframework-directlinejs with the same bot texts in the same order; a hand-written Emulator-style transcript
// (conversationUpdate, an Adaptive Card, an hour between two activities) replays in Web Chat in Chromium with
// the card rendered and the gap capped; every malformed transcript is refused naming the file, line and path.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { importFile } from '../../src/import/index.js';
import { toTranscript } from '../../src/inspect/index.js';
import { startReplayer } from '../../src/replay/index.js';
import type { WsMessageEvent } from '../../src/cassette/schema.js';
import { activitiesOf, createDirectLine, endDirectLine, postAndWait, waitForActivities } from '../support/directline-client.js';
import { withRig } from '../record/helpers.js';
import { collectErrors, ensureDirFor, launchChromium, sendAsPerson, waitAllSent } from '../browser/support.js';
import { DEMO_CARD, deliveredActivities, importText, inputFolder } from './fixtures.js';

const botTexts = (acts: any[]) => acts.filter((a) => a.from?.role === 'bot' && a.type === 'message').map((a) => a.text);
const TURNS: Array<[string, string]> = [
  ['hello', 'You said: hello'],
  ['burst 3', 'burst 3/3'],
  ['slow', 'You said: slow'],
];

/** Sends each message once the bot has answered the one before, as a person would. */
async function converse(dl: ReturnType<typeof createDirectLine>, userId: string): Promise<void> {
  for (const [text, answer] of TURNS) {
    await postAndWait(dl, { type: 'message', text, from: { id: userId } });
    await waitForActivities(dl, (acts) => botTexts(acts).includes(answer), 10_000);
  }
}

test('record → export --format transcript → import → replay: the same bot texts in the same order', { timeout: 60_000 }, async () => {
  const folder = await inputFolder();
  try {
    let recorded: string[] = [];
    await withRig({}, async ({ emu, rec, load }) => {
      const dl = createDirectLine({ domain: rec.domain, secret: emu.secret, webSocket: true });
      try {
        await converse(dl, 'rt-user');
        recorded = botTexts(activitiesOf(dl));
      } finally {
        endDirectLine(dl);
      }
      const transcript = folder.write('recorded.transcript', JSON.stringify(toTranscript(await load()), null, 2));
      const imported = await importFile(transcript);
      assert.equal(imported.source?.from, 'transcript');
      writeFileSync(folder.file('imported.json'), JSON.stringify(imported));
    });
    assert.deepEqual(recorded, [
      'Welcome to the emulator bot!',
      'You said: hello',
      'burst 1/3',
      'burst 2/3',
      'burst 3/3',
      'You said: slow',
    ]);

    const replayer = await startReplayer({ cassette: folder.file('imported.json'), speed: 0 });
    const dl = createDirectLine({ domain: replayer.domain, token: 'any', webSocket: true });
    try {
      await converse(dl, 'someone-else');
      assert.deepEqual(botTexts(activitiesOf(dl)), recorded);
      assert.equal(replayer.summary().unmatched, 0);
    } finally {
      endDirectLine(dl);
      await replayer.close();
    }
  } finally {
    await folder.cleanup();
  }
});

/** What the Bot Framework Emulator saves: roles, GUID ids, timestamps, a conversationUpdate first. */
function emulatorTranscript(card: unknown): string {
  const bot = { id: 'b7a1c0de', name: 'Travel Bot', role: 'bot' };
  const user = { id: 'u-42', name: 'User', role: 'user' };
  const conversation = { id: 'emu-conv-1' };
  return JSON.stringify(
    [
      {
        type: 'conversationUpdate',
        membersAdded: [
          { id: bot.id, name: bot.name },
          { id: user.id, name: user.name },
        ],
        membersRemoved: [],
        channelId: 'emulator',
        conversation,
        id: '0b3c2f40-1',
        localTimestamp: '2026-01-10T09:00:00+01:00',
        recipient: bot,
        timestamp: '2026-01-10T08:00:00.000Z',
        from: user,
        serviceUrl: 'http://localhost:53000',
      },
      {
        type: 'message',
        text: 'Hi! Ask me for your booking.',
        from: bot,
        recipient: user,
        conversation,
        id: '0b3c2f40-2',
        timestamp: '2026-01-10T08:00:01.200Z',
        channelId: 'emulator',
      },
      {
        type: 'message',
        text: 'show my booking',
        from: user,
        recipient: bot,
        conversation,
        id: '0b3c2f40-3',
        timestamp: '2026-01-10T08:00:05.000Z',
        channelId: 'emulator',
        textFormat: 'plain',
      },
      {
        type: 'typing',
        from: bot,
        recipient: user,
        conversation,
        id: '0b3c2f40-4',
        timestamp: '2026-01-10T08:00:05.300Z',
        channelId: 'emulator',
      },
      // An hour later (the person went for lunch while testing): capped to --max-gap.
      {
        type: 'message',
        from: bot,
        recipient: user,
        conversation,
        id: '0b3c2f40-5',
        timestamp: '2026-01-10T09:00:05.300Z',
        channelId: 'emulator',
        replyToId: '0b3c2f40-3',
        attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: card }],
      },
    ],
    null,
    2,
  );
}

test('an Emulator transcript keeps its activities and caps long gaps', async () => {
  const card = JSON.parse((await import('node:fs')).readFileSync(DEMO_CARD, 'utf8'));
  const c = await importText('emulator.transcript', emulatorTranscript(card), { maxGap: 2000 });
  const delivered = deliveredActivities(c);
  assert.deepEqual(
    delivered.map((a) => `${a.type}:${a.from?.role}`),
    ['conversationUpdate:user', 'message:bot', 'message:user', 'typing:bot', 'message:bot'],
  );
  assert.equal(delivered[4].replyToId, '0b3c2f40-3');
  assert.equal(delivered[4].id, '0b3c2f40-5', 'ids kept');
  assert.equal((delivered[4].conversation as { id?: string } | undefined)?.id, 'emu-conv-1');
  assert.deepEqual(delivered[4].attachments?.[0].content, card);
  const frames = c.events.filter((e): e is WsMessageEvent => e.type === 'ws.message');
  assert.equal(frames[1].t - frames[0].t, 1200, 'a short gap is kept');
  assert.equal(frames[4].t - frames[3].t, 2000, 'an hour becomes --max-gap');
});

describe('a hand-written Emulator transcript in Web Chat', () => {
  let browser: Browser | undefined;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  test('replays offline with its Adaptive Card rendered', { timeout: 60_000 }, async () => {
    const folder = await inputFolder();
    const card = JSON.parse((await import('node:fs')).readFileSync(DEMO_CARD, 'utf8'));
    const replayer = await startReplayer({
      cassette: await importFile(folder.write('emulator.transcript', emulatorTranscript(card))),
      speed: 2,
      demoPage: true,
    });
    try {
      const page = await browser!.newPage({ viewport: { width: 520, height: 720 } });
      const errors = collectErrors(page);
      await page.goto(replayer.demoPageUrl!);
      await page.locator('.webchat__bubble', { hasText: 'Hi! Ask me for your booking.' }).waitFor({ timeout: 10_000 });
      await sendAsPerson(page, 'show my booking');
      const rendered = page.locator('.ac-adaptiveCard', { hasText: 'Your trip to Lisbon' });
      await rendered.waitFor({ timeout: 10_000 });
      assert.match(await rendered.innerText(), /VCR 1015, Amsterdam → Lisbon/);
      await waitAllSent(page);
      assert.equal(replayer.summary().unmatched, 0);
      assert.deepEqual(errors, []);
      const shot = fileURLToPath(new URL('../../test-artifacts/import-transcript.png', import.meta.url));
      ensureDirFor(shot);
      await page.screenshot({ path: shot });
      if (process.env.DLVCR_UPDATE_DOCS) copyFileSync(shot, fileURLToPath(new URL('../../docs/import-transcript.png', import.meta.url)));
    } finally {
      await replayer.close();
      await folder.cleanup();
    }
  });
});

describe('a malformed transcript is refused with the file, the line and what was expected', () => {
  const cases: Array<[string, string, RegExp]> = [
    [
      'broken JSON',
      '[\n  {"type": "message",\n  }\n]',
      /^.*bad\.transcript:3: not valid JSON \(.*\); expected a \.transcript: a JSON array of activities$/,
    ],
    ['not an array', '{\n  "type": "message"\n}', /bad\.transcript:1: \(root\): expected a JSON array of activities/],
    ['empty', '[]', /bad\.transcript:1: \(root\): the transcript has no activities/],
    [
      'an entry that is no activity',
      '[\n  {"type": "message", "from": {"role": "user"}},\n  42\n]',
      /bad\.transcript:3: \[1\]: expected an activity object, found a number/,
    ],
    [
      'no type',
      '[\n  {"text": "hi",\n   "from": {"role": "user"}}\n]',
      /bad\.transcript:2: \[0\]\.type: expected the activity type, a string such as "message"/,
    ],
    [
      'unknown role',
      '[\n  {"type": "message",\n   "from": {"id": "a", "role": "agent"}}\n]',
      /bad\.transcript:3: \[0\]\.from\.role: expected "user" or "bot", found "agent"/,
    ],
    [
      'bad timestamp',
      '[\n  {"type": "message", "from": {"role": "bot"},\n   "timestamp": "yesterday"}\n]',
      /bad\.transcript:3: \[0\]\.timestamp: expected an ISO 8601 time/,
    ],
    [
      'nobody to tell who spoke',
      '[\n  {"type": "message", "text": "hi",\n   "from": {"id": "x"}}\n]',
      /bad\.transcript:3: \[0\]\.from: cannot tell whether the user or the bot sent this activity/,
    ],
  ];
  for (const [what, text, expected] of cases) {
    test(what, async () => {
      await assert.rejects(importText('bad.transcript', text), (err: Error) => {
        assert.equal(err.name, 'ImportError');
        assert.match(err.message, expected);
        return true;
      });
    });
  }
});
