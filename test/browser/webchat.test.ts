// Web Chat 4.18.1 in Chromium, end to end: (a) a person chats through the recorder's demo page with the test
// emulator's bot, which is recorded; (b) with the emulator stopped, the replay server serves that cassette and
// its demo page replays the same conversation. Both check the reply bubbles, that no message is marked
// "send failed", and that the typing indicator shows while the bot "types" (1.5 s before each reply).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { loadCassette } from '../../src/cassette/load.js';
import { startRecorder } from '../../src/record/recorder.js';
import { startReplayer, type Replayer } from '../../src/replay/index.js';
import { startEmulator, type BotReplyStep } from '../emulator/index.js';
import {
  botBubble,
  collectErrors,
  ensureDirFor,
  launchChromium,
  SELECTORS,
  sendAsPerson,
  sendFailed,
  userBubble,
  waitAllSent,
} from './support.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const CASSETTE = `${ARTIFACTS}webchat-demo.json`;
const RECORD_SCREENSHOT = `${ARTIFACTS}webchat-record.png`;
const REPLAY_SCREENSHOT = `${ARTIFACTS}webchat-replay.png`;
const REPLAY_TYPING_SCREENSHOT = `${ARTIFACTS}webchat-replay-typing.png`;
const WELCOME = 'Welcome to the emulator bot!';
const MESSAGES = ['Hello from Chromium!', 'Can you replay this?'];
const TYPING_MS = 1500;
const VIEWPORT = { width: 760, height: 620 };

/** Typing first, the reply TYPING_MS later: long enough to see the indicator. */
function slowTypist(activity: { type?: string; text?: string }): BotReplyStep[] {
  if (activity.type !== 'message') return [];
  return [{ type: 'typing' }, { type: 'message', text: `You said: ${activity.text ?? ''}`, delayMs: TYPING_MS }];
}

let browser: Browser | undefined;
const cleanups: Array<() => Promise<unknown>> = [];
let recorded = false;

before(async () => {
  browser = await launchChromium();
});

after(async () => {
  for (const clean of cleanups.reverse()) await clean().catch(() => {});
  await browser?.close();
});

/** Runs MESSAGES as a person would and checks what Web Chat shows after each. */
async function converse(page: Page, errors: string[], typingScreenshot?: string): Promise<void> {
  const why = () => (errors.length ? `\nbrowser errors:\n${errors.join('\n')}` : '');
  await botBubble(page, WELCOME)
    .waitFor({ timeout: 10_000 })
    .catch((err: Error) => assert.fail(`no welcome bubble: ${err.message}${why()}`));
  for (const text of MESSAGES) {
    await sendAsPerson(page, text);
    await page
      .locator(SELECTORS.typing)
      .waitFor({ state: 'visible', timeout: 5_000 })
      .catch((err: Error) => assert.fail(`no typing indicator after sending "${text}": ${err.message}${why()}`));
    if (typingScreenshot && text === MESSAGES[0]) await page.screenshot({ path: typingScreenshot });
    await botBubble(page, `You said: ${text}`)
      .waitFor({ timeout: 10_000 })
      .catch((err: Error) => assert.fail(`no reply bubble for "${text}": ${err.message}${why()}`));
    // A message from the bot ends its typing.
    await page.locator(SELECTORS.typing).waitFor({ state: 'hidden', timeout: 5_000 });
    assert.equal(await userBubble(page, text).count(), 1, `one bubble for "${text}"`);
  }
  // Every user message's echo arrived ("sent"); nothing is, or can later become, "send failed".
  const activities = await waitAllSent(page);
  assert.equal(await sendFailed(page).count(), 0, 'no "Send failed" status in the DOM');
  assert.equal(await page.locator(SELECTORS.sendStatus).count(), 0, 'no "Sending"/"Send failed" status left');
  const said = activities.filter((a) => a.type === 'message').map((a) => `${a.role}: ${a.text}`);
  assert.deepEqual(said, ['bot: ' + WELCOME, ...MESSAGES.flatMap((m) => [`user: ${m}`, `bot: You said: ${m}`])]);
}

/** The replay server with the demo page mounted at /. */
async function replayWithPage(cassette: string): Promise<{ replayer: Replayer; pageUrl: string }> {
  const replayer = await startReplayer({ cassette, speed: 1, demoPage: true });
  cleanups.push(() => replayer.close());
  assert.ok(replayer.demoPageUrl, 'startReplayer serves the demo page');
  return { replayer, pageUrl: replayer.demoPageUrl };
}

describe('Web Chat demo page in Chromium', () => {
  it('(a) records: Web Chat talks to the emulator through the recorder', { timeout: 30_000 }, async () => {
    ensureDirFor(CASSETTE);
    await rm(CASSETTE, { force: true });
    const emulator = await startEmulator({ bot: { reply: slowTypist } });
    cleanups.push(() => emulator.close());
    const recorder = await startRecorder({ upstream: emulator.domain, cassette: CASSETTE, demoPage: true });
    cleanups.push(() => recorder.close());
    assert.ok(recorder.demoPageUrl);

    const context = await browser!.newContext({ viewport: VIEWPORT });
    try {
      const page = await context.newPage();
      const errors = collectErrors(page);
      await page.goto(recorder.demoPageUrl);
      assert.match(
        await page.locator('#dlvcr-header').innerText(),
        /RECORDING[\s\S]*directline-vcr[\s\S]*Recording this conversation to webchat-demo\.json/i,
      );
      // The secret goes into the page's form, as a person would give it (never to the recorder).
      await page.locator('#dlvcr-value').fill(emulator.secret);
      await page.locator('#dlvcr-credentials button[type=submit]').click();
      await converse(page, errors);
      await page.screenshot({ path: RECORD_SCREENSHOT });
    } finally {
      await context.close();
    }
    await recorder.close();
    await emulator.close(); // (b) runs without it

    const cassette = await loadCassette(CASSETTE);
    const posted = cassette.events.filter((e) => e.type === 'http' && e.route === 'activities.post').length;
    assert.equal(posted, MESSAGES.length, 'the cassette holds the two sends');
    assert.ok(!JSON.stringify(cassette).includes(emulator.secret), 'the secret is redacted in the cassette');
    recorded = true;
  });

  it('(b) replays the recorded conversation to Web Chat, emulator stopped', { timeout: 30_000 }, async () => {
    assert.ok(recorded && existsSync(CASSETTE), 'needs the cassette recorded by (a)');
    const { replayer, pageUrl } = await replayWithPage(CASSETTE);
    const context = await browser!.newContext({ viewport: VIEWPORT });
    try {
      const page = await context.newPage();
      const errors = collectErrors(page);
      await page.goto(pageUrl);
      const header = await page.locator('#dlvcr-header').innerText();
      assert.match(header, /REPLAY[\s\S]*Replaying cassette webchat-demo\.json offline/i);
      assert.ok(header.includes(MESSAGES[0]!), 'the header lists the recorded messages');
      await converse(page, errors, REPLAY_TYPING_SCREENSHOT);
      await page.screenshot({ path: REPLAY_SCREENSHOT });
    } finally {
      await context.close();
    }
    const summary = replayer.summary();
    assert.equal(summary.unmatched, 0, JSON.stringify(summary.unmatchedRequests, null, 2));
    assert.equal(summary.conversations, 1);
  });

  it('(c) takes the secret from #secret= in the page URL, removes it from the address bar, reports a refused one', {
    timeout: 20_000,
  }, async () => {
    const emulator = await startEmulator({});
    cleanups.push(() => emulator.close());
    const proxy = await startRecorder({ upstream: emulator.domain, demoPage: true }); // no cassette: passthrough
    cleanups.push(() => proxy.close());
    const context = await browser!.newContext({ viewport: VIEWPORT });
    try {
      const page = await context.newPage();
      const errors = collectErrors(page);
      await page.goto(`${proxy.demoPageUrl}#secret=${encodeURIComponent(emulator.secret)}`);
      await botBubble(page, WELCOME)
        .waitFor({ timeout: 10_000 })
        .catch((err: Error) => assert.fail(`${err.message}\n${errors.join('\n')}`));
      assert.equal(page.url(), proxy.demoPageUrl, 'the secret is gone from the address bar');
      assert.equal(await page.locator('#dlvcr-credentials').isVisible(), false, 'no form when the URL carries the secret');
      assert.match(await page.locator('#dlvcr-header').innerText(), /Proxying this conversation \(not recording\)/);
      // The upstream saw the secret as the bearer of the start request only.
      const start = emulator.requests.find((r) => r.method === 'POST' && r.path.endsWith('/conversations'));
      assert.equal(start?.headers.authorization, `Bearer ${emulator.secret}`);

      // A refused secret is said on the page, not only in the server log.
      const wrong = await context.newPage();
      await wrong.goto(`${proxy.demoPageUrl}#secret=wrong-secret`);
      await wrong.locator('#dlvcr-status').waitFor({ state: 'visible', timeout: 10_000 });
      assert.match(await wrong.locator('#dlvcr-status').innerText(), /Could not connect to .*: the secret was refused/);
    } finally {
      await context.close();
    }
  });
});
