// The shipped demo (recordings/demo.json, imported from recordings/demo/demo.yaml) as `npm start` serves it:
// Web Chat in Chromium, offline, the person clicking the suggested-action buttons: the welcome, a typing pause,
// the Adaptive Card rendered, the image served by the replay server, and the livestreamed answer filling one
// bubble. Keeps a screenshot for the README.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { startReplayer } from '../../src/replay/index.js';
import { botBubble, collectErrors, ensureDirFor, launchChromium, SELECTORS, sendFailed, waitAllSent } from './support.js';

const DEMO = fileURLToPath(new URL('../../recordings/demo.json', import.meta.url));
const SHOT = fileURLToPath(new URL('../../test-artifacts/demo-replay.png', import.meta.url));
const DOCS_SHOT = fileURLToPath(new URL('../../docs/demo-replay.png', import.meta.url));
const STREAMED =
  'It records a Direct Line conversation (HTTP and WebSocket) into a cassette, replays it offline with the recorded timing, ' +
  'and imports transcripts, chatdown files and scripts like this one. This answer was livestreamed chunk by chunk, as a ' +
  'copilot streams. That is the whole demo: record your own bot with directline-vcr record.';

describe('the shipped demo in Web Chat', () => {
  let browser: Browser | undefined;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  it('replays offline at speed 2 by clicking the buttons: card, image, livestream', { timeout: 60_000 }, async () => {
    const replayer = await startReplayer({ cassette: DEMO, speed: 2, demoPage: true });
    try {
      const page = await browser!.newPage({ viewport: { width: 560, height: 1100 } });
      const errors = collectErrors(page);
      await page.goto(replayer.demoPageUrl!);
      await botBubble(page, 'Welcome to the directline-vcr demo bot!').waitFor({ timeout: 10_000 });
      const click = (name: string) => page.getByRole('button', { name }).last().click({ timeout: 10_000 });

      await click('Hello');
      await page.locator(SELECTORS.typing).waitFor({ timeout: 5_000 });
      await page.locator(SELECTORS.bubble, { hasText: 'Hello! I am a scripted bot' }).waitFor({ timeout: 10_000 });

      await click('Show me a card');
      await page.locator('.ac-adaptiveCard', { hasText: 'Your trip to Lisbon' }).waitFor({ timeout: 10_000 });

      await click('Show me a picture');
      const src = `${replayer.url}/attachments/`;
      await page.waitForFunction(
        (prefix) => [...document.images].some((i) => i.src.startsWith(prefix) && i.complete && i.naturalWidth === 640),
        src,
        { timeout: 10_000 },
      );

      await click('What can directline-vcr do?');
      await botBubble(page, STREAMED).waitFor({ timeout: 15_000 });
      assert.equal(await page.locator(SELECTORS.bubble, { hasText: 'It records a Direct Line' }).count(), 1, 'the stream is one bubble');

      await waitAllSent(page);
      assert.equal(await sendFailed(page).count(), 0, 'no message marked as failed to send');
      assert.equal(replayer.summary().unmatched, 0);
      assert.deepEqual(errors, []);
      ensureDirFor(SHOT);
      await page.screenshot({ path: SHOT, fullPage: false });
      if (process.env.DLVCR_UPDATE_DOCS) copyFileSync(SHOT, DOCS_SHOT);
    } finally {
      await replayer.close();
    }
  });
});
