// LLM livestreaming (Web Chat ≥ 4.17, docs/LIVESTREAMING.md in BotFramework-WebChat): interim `typing`
// activities with channelData { streamType, streamSequence, streamId = the id of the stream's first activity },
// then a `message` with streamType 'final'. The emulator's bot livestreams on "stream" (LIVESTREAM_CHUNKS growing
// chunks 50–80 ms apart); botframework-directlinejs records that through the recorder, and the cassette is
// replayed at speed 1 (a) to botframework-directlinejs over the WebSocket: every chunk with its recorded pacing,
// streamId pointing at the id the replay handed out; (b) to Web Chat in Chromium, whose bot bubble is sampled
// every 30 ms: the text grows through several prefixes, in order, and ends as one bubble with the full text.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { startReplayer } from '../../src/replay/index.js';
import type { Cassette } from '../../src/cassette/schema.js';
import { LIVESTREAM_CHUNKS, LIVESTREAM_TEXT } from '../emulator/index.js';
import { botBubble, collectErrors, ensureDirFor, launchChromium, SELECTORS, sendAsPerson } from '../browser/support.js';
import {
  activitiesOf,
  activityTimesOf,
  createDirectLine,
  endDirectLine,
  postAndWait,
  waitForActivities,
} from '../support/directline-client.js';
import { generateToken, recordCassette } from '../support/recording.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const MID_STREAM_SCREENSHOT = `${ARTIFACTS}livestream-replay-mid-stream.png`;
const END_SCREENSHOT = `${ARTIFACTS}livestream-replay-end.png`;
const USER = 'dl_livestream-user';
const WELCOME = 'Welcome to the emulator bot!';
const f = (n: number) => n.toFixed(1);

interface Streamed {
  /** The interim activities then the final one, as activity$ emitted them. */
  activities: any[];
  /** When each came (performance.now()), and when postActivity was called. */
  times: number[];
  postedAt: number;
  conversationId: string;
}

/** Welcome, then "stream": waits for the final message; returns the livestream as the client saw it. */
async function streamOnce(domain: string, token: string): Promise<Streamed> {
  const dl = createDirectLine({ domain, token, webSocket: true });
  try {
    await waitForActivities(dl, (a) => a.some((x) => x.text === WELCOME), 10_000);
    const postedAt = performance.now();
    await postAndWait(dl, { type: 'message', text: 'stream', from: { id: USER, name: 'Stream User' } });
    await waitForActivities(dl, (a) => a.some((x) => x.channelData?.streamType === 'final'), 15_000);
    const all = activitiesOf(dl);
    const times = activityTimesOf(dl);
    const indexes = all.map((a, i) => (a.channelData?.streamType ? i : -1)).filter((i) => i >= 0);
    return {
      activities: indexes.map((i) => all[i]),
      times: indexes.map((i) => times[i]!),
      postedAt,
      conversationId: (dl as unknown as { conversationId: string }).conversationId,
    };
  } finally {
    endDirectLine(dl);
  }
}

/** Checks the livestream's shape; returns the id of its first activity (the stream's id). */
function assertLivestream(s: Streamed, label: string): string {
  const interim = s.activities.slice(0, -1);
  const final = s.activities.at(-1);
  assert.equal(interim.length, LIVESTREAM_CHUNKS, `${label}: every interim activity`);
  assert.ok(
    interim.every((a) => a.type === 'typing' && a.channelData.streamType === 'streaming'),
    `${label}: interim activities are typing`,
  );
  assert.deepEqual(
    interim.map((a) => a.channelData.streamSequence),
    Array.from({ length: LIVESTREAM_CHUNKS }, (_, i) => i + 1),
    `${label}: in sequence`,
  );
  assert.deepEqual(
    [final.type, final.channelData.streamType, final.text],
    ['message', 'final', LIVESTREAM_TEXT],
    `${label}: the final message`,
  );
  const streamId = interim[0].id as string;
  assert.ok(streamId, `${label}: the first interim activity has an id`);
  for (const a of s.activities.slice(1))
    assert.equal(a.channelData.streamId, streamId, `${label}: streamId of sequence ${a.channelData.streamSequence ?? 'final'}`);
  return streamId;
}

describe('livestreaming, recorded through the recorder and replayed', { timeout: 120_000 }, () => {
  let cassette: Cassette;
  let recorded: Streamed;
  let browser: Browser | undefined;

  before(async () => {
    const rec = await recordCassette({}, async ({ domain, emu }) => streamOnce(domain, await generateToken(domain, emu.secret, USER)));
    cassette = rec.cassette;
    recorded = rec.result;
    const streamId = assertLivestream(recorded, 'recording');
    assert.ok(streamId.startsWith(`${recorded.conversationId}|`));
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
  });

  it('(a) botframework-directlinejs, WebSocket: every chunk at its recorded pace, streamId = the replayed id of the first', async () => {
    const r = await startReplayer({ cassette, speed: 1 });
    let replayed: Streamed;
    try {
      replayed = await streamOnce(r.domain, await generateToken(r.domain, 'replay-secret', USER));
      assert.equal(r.summary().unmatched, 0, JSON.stringify(r.summary().unmatchedRequests));
    } finally {
      await r.close();
    }
    const streamId = assertLivestream(replayed, 'replay');
    assert.notEqual(replayed.conversationId, recorded.conversationId, 'a conversation of its own');
    assert.ok(streamId.startsWith(`${replayed.conversationId}|`), `the stream's id is the replayed id of its first activity (${streamId})`);
    assert.deepEqual(
      replayed.activities.map((a) => a.text),
      recorded.activities.map((a) => a.text),
    );

    // Gaps: the first chunk from the POST, then each activity from the one before (final included).
    const gaps = (s: Streamed) => s.times.map((t, i) => t - (i === 0 ? s.postedAt : s.times[i - 1]!));
    const rec = gaps(recorded);
    const got = gaps(replayed);
    console.log(`# livestream gaps (ms), recorded → replayed: ${rec.map((g, i) => `${f(g)}→${f(got[i]!)}`).join(' ')}`);
    const worst = Math.max(...rec.map((g, i) => Math.abs(got[i]! - g) - (20 + 0.1 * g)));
    console.log(`# livestream: worst gap error beyond the tolerance ${f(worst)} ms (≤ 0 passes)`);
    rec.forEach((g, i) => {
      const what =
        i === 0
          ? 'the first chunk after the POST'
          : i === rec.length - 1
            ? 'the final message after the last chunk'
            : `chunk ${i + 1} after chunk ${i}`;
      assert.ok(Math.abs(got[i]! - g) <= 20 + 0.1 * g, `${what}: ${f(got[i]!)} ms, recorded ${f(g)} ± ${f(20 + 0.1 * g)}`);
    });
  });

  it('(b) Web Chat in Chromium: the bubble grows through the chunks in order, then one final bubble with the whole text', async () => {
    const r = await startReplayer({ cassette, speed: 1, demoPage: true });
    const context = await browser!.newContext({ viewport: { width: 760, height: 620 } });
    try {
      const page = await context.newPage();
      const errors = collectErrors(page);
      await page.goto(r.demoPageUrl!);
      await botBubble(page, WELCOME)
        .waitFor({ timeout: 15_000 })
        .catch((err: Error) => assert.fail(`no welcome bubble: ${err.message}\n${errors.join('\n')}`));
      // Samples the bot bubbles' texts every 30 ms, in the page (no round trip per sample).
      await page.evaluate(
        ({ bubble, user }) => {
          const w = window as unknown as { livestreamSamples: Array<{ t: number; texts: string[] }> };
          w.livestreamSamples = [];
          setInterval(() => {
            const texts = Array.from(document.querySelectorAll(`${bubble}:not(${user})`)).map((b) => (b as HTMLElement).innerText.trim());
            w.livestreamSamples.push({ t: performance.now(), texts });
          }, 30);
        },
        { bubble: SELECTORS.bubble, user: SELECTORS.userBubble },
      );
      await sendAsPerson(page, 'stream');
      // Mid-stream: some chunk is showing, not yet the whole text.
      await page.waitForFunction(
        (full) => {
          const w = window as unknown as { livestreamSamples: Array<{ texts: string[] }> };
          const last = w.livestreamSamples.at(-1)?.texts.at(-1) ?? '';
          return last.split(' ').length >= 8 && last !== full;
        },
        LIVESTREAM_TEXT,
        { timeout: 15_000, polling: 30 },
      );
      ensureDirFor(MID_STREAM_SCREENSHOT);
      await page.screenshot({ path: MID_STREAM_SCREENSHOT });
      await botBubble(page, LIVESTREAM_TEXT)
        .waitFor({ timeout: 15_000 })
        .catch((err: Error) => assert.fail(`no final bubble: ${err.message}\n${errors.join('\n')}`));
      await page.waitForTimeout(300);
      await page.screenshot({ path: END_SCREENSHOT });

      const samples = await page.evaluate(
        () => (window as unknown as { livestreamSamples: Array<{ t: number; texts: string[] }> }).livestreamSamples,
      );
      // The livestream's bubble: the bot bubble after the welcome.
      const seen: Array<{ t: number; text: string }> = [];
      for (const s of samples) {
        const text = s.texts.filter((x) => x !== WELCOME).at(-1);
        if (text && text !== seen.at(-1)?.text) seen.push({ t: s.t, text });
      }
      const first = seen[0]!;
      const full = seen.find((x) => x.text === LIVESTREAM_TEXT);
      const words = seen.map((x) => x.text.split(' ').length).join(' ');
      const span = full ? f(full.t - first.t) : '?';
      const n = `${seen.length} distinct texts of the livestream bubble in ${samples.length} samples`;
      console.log(`# Web Chat: ${n}; ${span} ms to the whole text; words ${words}`);
      assert.ok(full, 'the whole text was shown');
      for (const x of seen) assert.ok(LIVESTREAM_TEXT.startsWith(x.text), `every text shown is a prefix of the answer: "${x.text}"`);
      for (let i = 1; i < seen.length; i++)
        assert.ok(seen[i]!.text.length > seen[i - 1]!.text.length, `texts only grow: "${seen[i - 1]!.text}" then "${seen[i]!.text}"`);
      const partial = seen.filter((x) => x.text !== LIVESTREAM_TEXT);
      assert.ok(partial.length >= 5, `several growing prefixes before the whole text (saw ${partial.length})`);
      // Not all at once: the stream took about as long as recorded (≈ 1.3 s of chunks).
      const recordedSpan = recorded.times.at(-1)! - recorded.times[0]!;
      assert.ok(
        full!.t - first.t >= 0.5 * recordedSpan,
        `${f(full!.t - first.t)} ms from the first chunk to the whole text, recorded ${f(recordedSpan)}`,
      );

      // In the end: one bot bubble with the whole text, none with a part of it.
      const bots = await page.locator(`${SELECTORS.bubble}:not(${SELECTORS.userBubble})`).allInnerTexts();
      assert.deepEqual(
        bots.map((t) => t.trim()),
        [WELCOME, LIVESTREAM_TEXT],
        'the welcome and exactly one final bubble',
      );
      assert.equal(await botBubble(page, LIVESTREAM_TEXT).count(), 1);
      assert.deepEqual(errors, [], 'no page errors');
      const s = r.summary();
      assert.equal(s.unmatched, 0, JSON.stringify(s.unmatchedRequests));
    } finally {
      await context.close();
      await r.close();
    }
  });
});
