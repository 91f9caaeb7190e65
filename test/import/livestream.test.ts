// A livestreamed answer (script `stream: { chunks, every }`): interim typing activities with growing text,
// streamType 'streaming', streamSequence 1…n and one streamId, then the final message; in Web Chat in Chromium
// the bubble fills up progressively (sampled by a MutationObserver in the page) and stays one bubble. Replay
// releases each recorded frame at its own recorded delay, so the chunks arrive `every` ms apart.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { importFile } from '../../src/import/index.js';
import { startReplayer } from '../../src/replay/index.js';
import { collectErrors, launchChromium } from '../browser/support.js';
import { botBubbleTexts, deliveredActivities, importText, inputFolder, sampleBubble } from './fixtures.js';

const CHUNKS = ['Streaming ', 'answers ', 'arrive ', 'piece ', 'by ', 'piece, ', 'like ', 'a ', 'copilot ', 'types ', 'them.'];
const script = (every: string) => `turns:
  - user: Tell me
  - bot:
      delay: 200ms
      stream:
        every: ${every}
        chunks: ${JSON.stringify(CHUNKS)}
`;

test('a stream becomes interim typing activities and a final message, as Web Chat livestreaming expects', async () => {
  const c = await importText('stream.yaml', script('60ms'));
  const acts = deliveredActivities(c).filter((a) => a.from?.role === 'bot');
  assert.equal(acts.length, CHUNKS.length + 1);
  const interim = acts.slice(0, -1);
  const streamId = interim[0].id;
  interim.forEach((a, i) => {
    assert.equal(a.type, 'typing');
    assert.equal(a.text, CHUNKS.slice(0, i + 1).join(''));
    assert.deepEqual(a.channelData, { streamType: 'streaming', streamSequence: i + 1, streamId });
  });
  const final = acts[acts.length - 1];
  assert.deepEqual([final.type, final.text, final.channelData], ['message', CHUNKS.join(''), { streamType: 'final', streamId }]);
  const frames = c.events.filter((e) => e.type === 'ws.message').slice(-acts.length);
  const gaps = frames.slice(1).map((f, i) => f.t - frames[i].t);
  assert.deepEqual(gaps, new Array(CHUNKS.length).fill(60));
  const watermarks = frames.map((f) => (f as { data: { json: { watermark?: string } } }).data.json.watermark);
  assert.deepEqual(watermarks.slice(0, -1), new Array(CHUNKS.length).fill(undefined), 'typing frames carry no watermark');
  assert.ok(watermarks[watermarks.length - 1], 'the final message has one');
});

describe('a livestream in Web Chat', () => {
  let browser: Browser | undefined;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  test('the bubble fills up chunk by chunk and ends as one message', { timeout: 60_000 }, async (t) => {
    const folder = await inputFolder();
    // 150 ms between chunks: slow enough that a loaded machine still renders most steps.
    const replayer = await startReplayer({
      cassette: await importFile(folder.write('stream.yaml', script('150ms'))),
      speed: 1,
      demoPage: true,
    });
    try {
      const page = await browser!.newPage({ viewport: { width: 520, height: 600 } });
      const errors = collectErrors(page);
      await page.goto(replayer.demoPageUrl!);
      await page.locator('.webchat__send-box-text-box__input').waitFor({ timeout: 10_000 });
      const sampler = await sampleBubble(page, 'Streaming');
      await page.locator('.webchat__send-box-text-box__input').fill('Tell me');
      await page.locator('.webchat__send-box-text-box__input').press('Enter');
      await page.locator('.webchat__bubble', { hasText: 'like a copilot types them.' }).waitFor({ timeout: 10_000 });
      const samples = await sampler.samples();
      t.diagnostic(`${samples.length} distinct bubble texts seen for ${CHUNKS.length} chunks`);
      // Progressive: several distinct texts, each a strict prefix of the next, ending with the whole answer.
      assert.ok(samples.length >= 5, `only ${samples.length} distinct texts seen while streaming: ${JSON.stringify(samples)}`);
      for (let i = 1; i < samples.length; i++)
        assert.ok(samples[i].startsWith(samples[i - 1]) && samples[i] !== samples[i - 1], `not growing: ${JSON.stringify(samples)}`);
      assert.equal(samples[samples.length - 1], CHUNKS.join('').trim());
      const bubbles = (await botBubbleTexts(page)).filter((t) => t.startsWith('Streaming'));
      assert.deepEqual(bubbles, [CHUNKS.join('').trim()], 'one bubble for the whole stream');
      assert.equal(replayer.summary().unmatched, 0);
      assert.deepEqual(errors, []);
    } finally {
      await replayer.close();
      await folder.cleanup();
    }
  });
});
