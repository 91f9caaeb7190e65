// The shipped demo (recordings/demo.json) as `npm start` serves it: Web Chat in Chromium, offline, the person
// clicking the suggested-action buttons the recorded bot offers. Keeps a screenshot for the README.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { startReplayer } from '../../src/replay/index.js';
import { botBubble, collectErrors, ensureDirFor, launchChromium, sendFailed, waitAllSent } from './support.js';

const DEMO = fileURLToPath(new URL('../../recordings/demo.json', import.meta.url));
const SHOT = fileURLToPath(new URL('../../test-artifacts/demo-replay.png', import.meta.url));
const DOCS_SHOT = fileURLToPath(new URL('../../docs/demo-replay.png', import.meta.url));

describe('the shipped demo in Web Chat', () => {
  let browser: Browser | undefined;
  before(async () => { browser = await launchChromium(); });
  after(async () => { await browser?.close(); });

  it('replays offline at speed 4 by clicking the recorded buttons', { timeout: 60_000 }, async () => {
    const replayer = await startReplayer({ cassette: DEMO, speed: 4, demoPage: true });
    try {
      const page = await browser!.newPage({ viewport: { width: 520, height: 900 } });
      const errors = collectErrors(page);
      await page.goto(replayer.demoPageUrl!);
      await botBubble(page, 'Welcome to the directline-vcr demo bot!').waitFor({ timeout: 10_000 });
      for (const [button, reply] of [
        ['Hello', 'Hello! I am a recorded bot: this conversation is replayed from a cassette, offline.'],
        ['Tell me a joke', 'It had too many unresolved frames.'],
        ['Show me a burst', 'That is the whole demo. Record your own bot with directline-vcr record.'], // markdown: backticks render as code
      ] as const) {
        await page.getByRole('button', { name: button }).last().click();
        await botBubble(page, reply).waitFor({ timeout: 10_000 });
      }
      for (let i = 1; i <= 4; i++) assert.equal(await botBubble(page, `Burst message ${i} of 4`).count(), 1);
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
