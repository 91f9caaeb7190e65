// `inspect --web` in Chromium on the shipped demo: the bot's texts (read from the cassette through the read
// model, so a new demo keeps this test honest), a click on a frame opens its JSON with placeholders marked,
// the filter hides and shows rows, keyboard moves between turns, Web Chat or the built-in chat view.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WsOpenEvent } from '../../src/cassette/schema.js';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { loadCassette } from '../../src/cassette/load.js';
import { readModel } from '../../src/model/index.js';
import { startInspector, type Inspector } from '../../src/inspector/index.js';
import { ensureDirFor, launchChromium } from '../browser/support.js';
import { openInspector, rowCount, timelineRow } from './support.js';
import { eventually } from '../support/async.js';

const DEMO = fileURLToPath(new URL('../../recordings/demo.json', import.meta.url));
const SHOT = fileURLToPath(new URL('../../test-artifacts/inspector-timeline.png', import.meta.url));
const DOCS_SHOT = fileURLToPath(new URL('../../docs/inspector-timeline.png', import.meta.url));

/** The bot's message texts in the demo, as the read model sees them. */
async function demoBotTexts(): Promise<string[]> {
  const model = readModel(await loadCassette(DEMO));
  return model.conversations.flatMap((c) =>
    c.log.filter((a) => a.role === 'bot' && a.activity.type === 'message' && a.activity.text).map((a) => a.activity.text!),
  );
}

/**
 * The shipped demo is imported from a script, so it has none of the keep-alive frames a recording has: a copy
 * with one, as the service sends them, so the keep-alive filter has something to hide.
 */
async function withKeepAlive(file: string): Promise<string> {
  const cassette = await loadCassette(file);
  const open = cassette.events.findIndex((e) => e.type === 'ws.open');
  const o = cassette.events[open] as WsOpenEvent;
  cassette.events.splice(open + 1, 0, {
    type: 'ws.message',
    t: o.t,
    conversationId: o.conversationId,
    socket: o.socket,
    from: 'server',
    data: { text: '' },
  });
  const dir = await mkdtemp(join(tmpdir(), 'dlvcr-inspector-'));
  const copy = join(dir, 'demo.json');
  await writeFile(copy, JSON.stringify(cassette));
  return copy;
}

describe('inspect --web on the shipped demo', () => {
  let browser: Browser | undefined;
  let inspector: Inspector | undefined;
  before(async () => {
    browser = await launchChromium();
    inspector = await startInspector({ cassettes: [await withKeepAlive(DEMO)] });
  });
  after(async () => {
    await inspector?.close();
    await browser?.close();
  });

  it('shows every bot text of the cassette in the timeline and in the chat view', { timeout: 60_000 }, async () => {
    const texts = await demoBotTexts();
    assert.ok(texts.length >= 3, `the demo has bot messages (${texts.length})`);
    const { page, errors } = await openInspector(browser!, inspector!.url, { width: 1500, height: 2400 });
    for (const text of texts) {
      const short = text.slice(0, 30);
      assert.ok((await timelineRow(page, short).count()) >= 1, `a timeline row shows "${short}"`);
    }
    // Web Chat is installed in this repository: the chat pane renders the recorded conversation with it.
    assert.equal(await page.locator('#chat-mode').textContent(), 'Web Chat');
    await page.locator('.webchat__bubble').filter({ hasText: texts[0] }).first().waitFor({ timeout: 15_000 });
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('opens a frame as collapsible JSON with its placeholders marked, and links it to its cause', { timeout: 60_000 }, async () => {
    const [welcome] = await demoBotTexts();
    const { page, errors } = await openInspector(browser!, inspector!.url);
    await timelineRow(page, welcome.slice(0, 25)).first().click();
    const details = page.locator('#details');
    await details.waitFor({ state: 'visible' });
    await page.locator('#details-body .json').waitFor();
    const json = (await page.locator('#details-body .json').textContent()) ?? '';
    assert.match(json, /"ws\.message"/);
    assert.ok(json.includes(JSON.stringify(welcome)), 'the frame JSON holds the activity text');
    // Collapsible: closing the root <details> hides its keys.
    const root = page.locator('#details-body .json > details').first();
    await root.locator('> summary').click();
    assert.equal(await root.getAttribute('open'), null);
    // The frame's cause (the stream open or a post) is a link; the selected row's cause is highlighted.
    assert.ok((await page.locator('#details-body').getByText('Caused by').count()) === 1);
    assert.ok((await page.locator('.row.linked').count()) >= 1, 'its cause is highlighted in the timeline');
    // An HTTP exchange carries placeholders (the Authorization header): they are marked, with their kind.
    await timelineRow(page, 'conversations.start').first().click();
    const mark = page.locator('#details-body mark.ph').first();
    await mark.waitFor();
    assert.match((await mark.textContent()) ?? '', /^DLVCR_(TOKEN|SECRET|STREAMTOKEN)_\d+$/);
    assert.match((await mark.getAttribute('title')) ?? '', /placeholder for a (token|secret|streamToken)/);
    ensureDirFor(SHOT);
    await timelineRow(page, welcome.slice(0, 25)).first().click();
    await page.locator('#details-body .json').waitFor();
    await page.screenshot({ path: SHOT });
    if (process.env.DLVCR_UPDATE_DOCS) copyFileSync(SHOT, DOCS_SHOT);
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('filters by text, activity type and route, and shows everything again', { timeout: 60_000 }, async () => {
    const texts = await demoBotTexts();
    const { page, errors } = await openInspector(browser!, inspector!.url);
    const all = await rowCount(page);
    assert.equal(all.shown, all.total);
    const needle = texts[texts.length - 1].slice(0, 20);
    await page.locator('#f-text').fill(needle);
    const filtered = await rowCount(page);
    assert.ok(filtered.shown >= 1 && filtered.shown < all.total, `text filter: ${filtered.shown} of ${all.total}`);
    assert.equal(await timelineRow(page, texts[0].slice(0, 20)).count(), 0, 'a row without the text is hidden');
    await page.locator('#f-text').fill('');
    assert.equal((await rowCount(page)).shown, all.total);
    await page.locator('#f-type').selectOption('typing');
    const typing = await rowCount(page);
    assert.ok(typing.shown >= 1 && typing.shown < all.total);
    assert.equal(await timelineRow(page, texts[0].slice(0, 20)).count(), 0);
    await page.locator('#f-type').selectOption('');
    await page.locator('#f-route').selectOption('activities.post');
    const posts = await rowCount(page);
    assert.ok(posts.shown >= 1 && posts.shown < all.total);
    await page.locator('#f-route').selectOption('');
    await page.locator('#f-keepalive').uncheck();
    assert.ok((await rowCount(page)).shown < all.total, 'keep-alives hidden');
    await page.locator('#f-keepalive').check();
    assert.equal((await rowCount(page)).shown, all.total);
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('moves between rows and turns with the keyboard', { timeout: 60_000 }, async () => {
    const { page } = await openInspector(browser!, inspector!.url);
    await page.locator('#rows').focus();
    await page.keyboard.press('n');
    const first = await page.locator('.row.sel').textContent();
    await page.keyboard.press('n');
    const second = await page.locator('.row.sel').textContent();
    assert.match(first ?? '', /HTTP/);
    assert.match(second ?? '', /activities\.post|conversations\.start/);
    assert.notEqual(first, second);
    await page.keyboard.press('p');
    assert.equal(await page.locator('.row.sel').textContent(), first);
    await page.keyboard.press('ArrowDown');
    assert.notEqual(await page.locator('.row.sel').textContent(), first);
    await page.keyboard.press('Enter');
    await page.locator('#details').waitFor({ state: 'visible' });
    await page.keyboard.press('Escape');
    await page.locator('#details').waitFor({ state: 'hidden' });
    await page.close();
  });
});

describe('inspect --web without Web Chat', () => {
  it('shows the conversation in the built-in chat view', { timeout: 60_000 }, async () => {
    const browser = await launchChromium();
    // bundle: null is what the resolver answers when botframework-webchat is not installed.
    const inspector = await startInspector({ cassettes: [DEMO], bundle: null });
    try {
      const texts = await demoBotTexts();
      const { page, errors } = await openInspector(browser, inspector.url);
      assert.match((await page.locator('#chat-mode').textContent()) ?? '', /built-in view/);
      await eventually(async () => (await page.locator('#chat-body .bubble').count()) > 0, 'chat bubbles', 10_000, 100);
      const chat = (await page.locator('#chat-body').textContent()) ?? '';
      for (const t of texts) assert.ok(chat.includes(t), `the built-in view shows "${t.slice(0, 30)}"`);
      assert.ok((await page.locator('#chat-body .bubble.user').count()) >= 1, "the user's messages are on their side");
      assert.equal(await page.locator('.webchat__bubble').count(), 0);
      const res = await fetch(new URL('webchat.js', inspector.url));
      assert.equal(res.status, 404);
      // A bubble leads to the row that delivered it.
      await page.locator('#chat-body .bubble.bot').first().click();
      assert.equal(await page.locator('.row.sel').count(), 1);
      assert.deepEqual(errors, []);
    } finally {
      await inspector.close();
      await browser.close();
    }
  });
});
