// The inspector live on a running server: a recorder's /_vcr/ gains rows while botframework-directlinejs
// talks through it, and a replay's /_vcr/ shows each live session and, in red, a mismatch (what arrived,
// what the cassette expected next) when the client sends a message that was never recorded.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { startEmulator } from '../emulator/index.js';
import { startRecorder } from '../../src/record/recorder.js';
import { startReplayer } from '../../src/replay/index.js';
import { loadCassette } from '../../src/cassette/load.js';
import { readModel } from '../../src/model/index.js';
import { createDirectLine, endDirectLine, postAndWait, waitForActivities } from '../support/directline-client.js';
import { ensureDirFor, launchChromium } from '../browser/support.js';
import { openInspector, rowCount, timelineRow } from './support.js';
import { eventually } from '../support/async.js';
import { tempDir } from '../support/fs.js';

const DEMO = fileURLToPath(new URL('../../recordings/demo.json', import.meta.url));
const shot = (name: string) => fileURLToPath(new URL(`../../test-artifacts/${name}`, import.meta.url));
const keep = (name: string) => {
  if (process.env.DLVCR_UPDATE_DOCS) copyFileSync(shot(name), fileURLToPath(new URL(`../../docs/${name}`, import.meta.url)));
};

describe('the live inspector', () => {
  let browser: Browser | undefined;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  it('on a recorder: rows appear as a directlinejs client talks through it', { timeout: 90_000 }, async () => {
    const emu = await startEmulator();
    const dir = await tempDir('dlvcr-inspector-');
    const rec = await startRecorder({ upstream: emu.domain, cassette: dir.file('live.json'), inspector: { bundle: null } });
    try {
      assert.equal(rec.inspectorUrl, `${rec.url}/_vcr/`);
      const { page, errors } = await openInspector(browser!, rec.inspectorUrl!);
      assert.match((await page.locator('#live').textContent()) ?? '', /recording/);
      const before = await rowCount(page);
      assert.equal(before.total, 0, 'nothing captured yet');

      const dl = createDirectLine({ domain: rec.domain, secret: emu.secret });
      try {
        await waitForActivities(dl, (a) => a.some((x) => x.text === 'Welcome to the emulator bot!'), 10_000);
        await eventually(async () => (await rowCount(page)).total >= 3, 'the start, the stream open and the welcome frame', 10_000, 100);
        await timelineRow(page, 'Welcome to the emulator bot!').first().waitFor({ timeout: 10_000 });
        const mid = await rowCount(page);
        await postAndWait(dl, { type: 'message', text: 'hello inspector', from: { id: 'user-1' } });
        await waitForActivities(dl, (a) => a.some((x) => x.text === 'You said: hello inspector'), 10_000);
        await timelineRow(page, 'You said: hello inspector').first().waitFor({ timeout: 10_000 });
        assert.ok((await rowCount(page)).total > mid.total, 'the page gained rows without a reload');
        // The reply is linked to the post that caused it.
        await timelineRow(page, 'You said: hello inspector').first().click();
        await page.locator('#details-body').getByText('Caused by').waitFor();
        assert.match((await page.locator('#details-body').textContent()) ?? '', /POST activities\.post message “hello inspector”/);
        // The chat view follows too (built-in: this recorder was given no Web Chat bundle).
        await page.locator('#chat-body .bubble').filter({ hasText: 'You said: hello inspector' }).waitFor({ timeout: 10_000 });
        // Placeholders only: the emulator's secret never reaches the page.
        const view = await (await fetch(`${rec.inspectorUrl}api/view`)).text();
        assert.ok(!view.includes(emu.secret), 'no secret in the view');
        ensureDirFor(shot('inspector-live-record.png'));
        await page.screenshot({ path: shot('inspector-live-record.png') });
        keep('inspector-live-record.png');
      } finally {
        endDirectLine(dl);
      }
      assert.deepEqual(errors, []);
      await page.close();
    } finally {
      await rec.close();
      await emu.close();
      await dir.cleanup();
    }
  });

  it('on a replay: each live session, and a mismatch in red with what was expected', { timeout: 90_000 }, async () => {
    const model = readModel(await loadCassette(DEMO));
    const firstPost = model.conversations.flatMap((c) => c.exchanges).find((x) => x.posted?.type === 'message')!.posted!;
    const welcome = model.conversations[0].log.find((a) => a.role === 'bot' && a.activity.text)!.activity.text!;
    const vcr = await startReplayer({ cassette: DEMO, speed: 0, inspector: true });
    try {
      assert.equal(vcr.inspectorUrl, `${vcr.url}/_vcr/`);
      const { page, errors } = await openInspector(browser!, vcr.inspectorUrl!);
      assert.match((await page.locator('#live').textContent()) ?? '', /replaying/);
      const dl = createDirectLine({ domain: vcr.domain, token: 'any' });
      try {
        await waitForActivities(dl, (a) => a.some((x) => x.text === welcome), 10_000);
        await page.locator('.row.conv').filter({ hasText: 'live session 1' }).waitFor({ timeout: 10_000 });
        await timelineRow(page, `released message “${welcome.slice(0, 20)}`)
          .first()
          .waitFor({ timeout: 10_000 });
        const unrecorded = 'a message nobody recorded';
        await assert.rejects(postAndWait(dl, { type: 'message', text: unrecorded, from: { id: 'me' } }));
        const row = page.locator('.row.mismatch.err').filter({ hasText: unrecorded });
        await row.first().waitFor({ timeout: 10_000 });
        assert.equal(await row.first().evaluate((el) => getComputedStyle(el).color), 'rgb(207, 34, 46)', 'the mismatch is red');
        await row.first().click();
        const vs = page.locator('#details-body .vs');
        await vs.waitFor();
        const received = (await vs.locator('.bad').textContent()) ?? '';
        const expected = (await vs.locator('> div').nth(1).textContent()) ?? '';
        assert.ok(received.includes(unrecorded), 'received shows what the client sent');
        assert.ok(expected.includes(String(firstPost.text)), `expected shows the recorded "${firstPost.text}"`);
        ensureDirFor(shot('inspector-mismatch.png'));
        await page.screenshot({ path: shot('inspector-mismatch.png') });
        keep('inspector-mismatch.png');
      } finally {
        endDirectLine(dl);
      }
      assert.equal(vcr.summary().unmatched, 1);
      // The page's failed loads are the client's: the only console errors allowed are none.
      assert.deepEqual(errors, []);
      await page.close();
    } finally {
      await vcr.close();
    }
  });
});
