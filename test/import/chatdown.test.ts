// Importing a chatdown .chat file: typing, delays, an image beside the file, an Adaptive Card from JSON,
// suggestions, a hero card, a carousel and a conversationUpdate become the activities chatdown defines, with
// its timing; replayed in Web Chat in Chromium the card renders and the image is served offline; a line the
// format does not allow, or a missing file, is refused with the file and the line.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import type { WsMessageEvent } from '../../src/cassette/schema.js';
import { importFile } from '../../src/import/index.js';
import { startReplayer } from '../../src/replay/index.js';
import { collectErrors, ensureDirFor, launchChromium, waitAllSent } from '../browser/support.js';
import { deliveredActivities, importText, inputFolder } from './fixtures.js';

const CHAT = `> A chatdown mock-up: header first, then who says what.
user=Joe
bot=TravelBot

bot: Hi Joe! [Suggestions=Show my trip|Help]
Joe: Show my trip
bot: [Typing][Delay=3000] Here it is:
[Attachment=card.json adaptivecard]
bot: [Typing]
And a picture of Lisbon, see [the guide](https://example.invalid/guide) [1].
[Attachment=picture.png]
bot: [AttachmentLayout=carousel]
[HeroCard=
    title=Alfama
    subtitle=3 nights
    image=picture.png
    buttons=Book|Skip]
[ConversationUpdate=MembersAdded=Susan]
`;

test('chatdown instructions become activities with chatdown timing', async () => {
  const c = await importText('trip.chat', CHAT);
  assert.deepEqual(c.source, { kind: 'import', from: 'chat', file: c.source!.file });
  assert.match(c.source!.file, /trip\.chat$/);
  const acts = deliveredActivities(c);
  assert.deepEqual(
    acts.map((a) => `${a.type}:${a.from?.name}`),
    [
      'message:TravelBot',
      'message:Joe',
      'typing:TravelBot',
      'message:TravelBot',
      'typing:TravelBot',
      'message:TravelBot',
      'message:TravelBot',
      'conversationUpdate:Joe',
    ],
  );
  assert.deepEqual(
    (acts[0].suggestedActions as any).actions.map((x: any) => x.title),
    ['Show my trip', 'Help'],
  );
  assert.equal(acts[3].text, 'Here it is:');
  assert.equal(acts[3].attachments?.[0].contentType, 'application/vnd.microsoft.card.adaptive');
  assert.equal((acts[3].attachments![0] as any).content.type, 'AdaptiveCard');
  assert.equal(
    acts[5].text,
    'And a picture of Lisbon, see [the guide](https://example.invalid/guide) [1].',
    'a Markdown link and [1] stay text',
  );
  assert.equal(acts[5].attachments?.[0].contentType, 'image/png');
  assert.match(acts[5].attachments![0].contentUrl!, /^https:\/\/import\.directline-vcr\.invalid\/attachments\/[0-9a-f]{16}\/picture\.png$/);
  assert.equal(acts[6].attachmentLayout, 'carousel');
  const hero = acts[6].attachments?.[0] as any;
  assert.equal(hero.contentType, 'application/vnd.microsoft.card.hero');
  assert.deepEqual(
    [hero.content.title, hero.content.subtitle, hero.content.buttons.map((b: any) => b.value)],
    ['Alfama', '3 nights', ['Book', 'Skip']],
  );
  assert.match(
    hero.content.images[0].url,
    /^data:image\/png;base64,iVBOR/,
    'a card image from a file is inlined: URLs inside cards are fetched as they are',
  );
  assert.deepEqual(
    (acts[7].membersAdded as any[]).map((m) => m.name),
    ['Susan'],
  );
  assert.equal(c.events.filter((e) => e.type === 'http' && e.route === 'attachment').length, 1, 'one file, fetched once');

  // Timing: typing 100 ms after the post, the message [Delay=3000] after that, then chatdown's 2 s gaps.
  const frames = c.events.filter((e): e is WsMessageEvent => e.type === 'ws.message');
  const at = (i: number) => frames[i].t;
  assert.deepEqual([at(2) - at(1), at(3) - at(2), at(4) - at(3), at(5) - at(4)], [100, 3000, 100, 2000]);
});

test('the shipped example recordings/demo/trip.chat imports', async () => {
  const c = await importFile(fileURLToPath(new URL('../../recordings/demo/trip.chat', import.meta.url)));
  assert.deepEqual(
    deliveredActivities(c).map((a) => a.type),
    ['message', 'message', 'typing', 'message', 'typing', 'message'],
  );
});

describe('a .chat file in Web Chat', () => {
  let browser: Browser | undefined;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  test('replays with the typing pause, the card rendered and the image served offline', { timeout: 60_000 }, async () => {
    const folder = await inputFolder();
    folder.withDemoAssets();
    const replayer = await startReplayer({ cassette: await importFile(folder.write('trip.chat', CHAT)), speed: 2, demoPage: true });
    try {
      const page = await browser!.newPage({ viewport: { width: 520, height: 1000 } });
      const errors = collectErrors(page);
      await page.goto(replayer.demoPageUrl!);
      await page.getByRole('button', { name: 'Show my trip' }).last().click({ timeout: 10_000 });
      await page.locator('.webchat__typing-indicator').waitFor({ timeout: 5_000 });
      await page.locator('.ac-adaptiveCard', { hasText: 'Your trip to Lisbon' }).waitFor({ timeout: 10_000 });
      const image = page.locator(`img[src^="${replayer.url}/attachments/"]`).first();
      await image.waitFor({ timeout: 10_000 });
      await page.waitForFunction(
        (src) => [...document.images].some((i) => i.src.startsWith(src) && i.complete && i.naturalWidth === 640),
        `${replayer.url}/attachments/`,
        { timeout: 10_000 },
      );
      await page.locator('.webchat__bubble', { hasText: 'Alfama' }).first().waitFor({ timeout: 10_000 });
      await waitAllSent(page);
      assert.equal(replayer.summary().unmatched, 0);
      assert.deepEqual(errors, []);
      const shot = fileURLToPath(new URL('../../test-artifacts/import-chat.png', import.meta.url));
      ensureDirFor(shot);
      await page.screenshot({ path: shot });
      if (process.env.DLVCR_UPDATE_DOCS) copyFileSync(shot, fileURLToPath(new URL('../../docs/import-chat.png', import.meta.url)));
    } finally {
      await replayer.close();
      await folder.cleanup();
    }
  });
});

describe('a .chat line the format does not allow is refused with the file and the line', () => {
  const cases: Array<[string, string, RegExp]> = [
    [
      'text before any speaker',
      'user=Joe\n\nHello there\nbot: hi',
      /bad\.chat:3: expected a speaker line such as "user: Hello" or "bot: Hi" \(speakers: bot, user, Joe\), found "Hello there"/,
    ],
    [
      'an unknown instruction',
      'user: hi\nbot: ok\n[Attachmnet=card.json]',
      /bad\.chat:3: unknown instruction \[Attachmnet=…\]; chatdown allows Typing, Delay=<ms>/,
    ],
    [
      'a delay that is no number',
      'user: hi\nbot: [Delay=soon] ok',
      /bad\.chat:2: \[Delay=…\] expects milliseconds, e\.g\. \[Delay=3000\]; found \[Delay=soon\]/,
    ],
    [
      'a missing attachment file',
      'user: hi\nbot: here\n[Attachment=nope.png]',
      /bad\.chat:3: attachment file "nope\.png" not found \(looked for .*nope\.png\); expected a file beside bad\.chat/,
    ],
    [
      'an attachment without a content type',
      'user: hi\nbot: [Attachment=notes.bin]',
      /bad\.chat:2: \[Attachment=notes\.bin\] needs a content type/,
    ],
    ['an unclosed instruction', 'user: hi\nbot: [Typing\nok', /bad\.chat:2: unclosed instruction: "\[Typing" has no closing "\]"/],
    ['a bad layout', 'user: hi\nbot: [AttachmentLayout=grid] x', /bad\.chat:2: \[AttachmentLayout=…\] expects carousel or list/],
    ['an unknown card property', 'user: hi\nbot: [HeroCard=\ntitle=A\ncolour=red]', /bad\.chat:4: unknown card property "colour"/],
    ['a malformed header', 'users=a=b\nuser: hi', /bad\.chat:1: malformed header option: expected users=<value>/],
    ['a user attachment', 'user: look [Attachment=picture.png]\nbot: nice', /bad\.chat:1: attachments from the user cannot be imported/],
    ['no messages', '> only a comment\n', /bad\.chat:2: the file has no messages/],
  ];
  for (const [what, text, expected] of cases) {
    test(what, async () => {
      await assert.rejects(importText('bad.chat', text), (err: Error) => {
        assert.equal(err.name, 'ImportError');
        assert.match(err.message, expected);
        return true;
      });
    });
  }
});
