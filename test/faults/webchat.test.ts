// Web Chat 4.18.1 in Chromium against the replayer with faults: a dropped stream (the conversation goes on after
// the reconnect), a 500 on a post ("Send failed. Retry", and Retry sends it), an expired token (Web Chat's
// connectivity error). The cassette is recorded first from the test emulator through the recorder. Screenshots
// of the three states go to docs/.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { startEmulator } from '../emulator/index.js';
import { startRecorder } from '../../src/record/recorder.js';
import { startReplayer, type Replayer } from '../../src/replay/index.js';
import { createDirectLine, endDirectLine, postAndWait, waitForActivities } from '../support/directline-client.js';
import { captureLogs } from '../support/logs.js';
import { tempDir, type TempDir } from '../support/fs.js';
import {
  botBubble,
  collectErrors,
  launchChromium,
  sendAsPerson,
  sendFailed,
  storeActivities,
  userBubble,
  waitAllSent,
} from '../browser/support.js';

const DOCS = fileURLToPath(new URL('../../docs/', import.meta.url));
const WELCOME = 'Welcome to the emulator bot!';
const VIEWPORT = { width: 760, height: 620 };

let browser: Browser | undefined;
let dir: TempDir | undefined;
let cassette = '';
const cleanups: Array<() => Promise<unknown>> = [];

before(async () => {
  browser = await launchChromium();
  dir = await tempDir('dlvcr-faults-webchat-');
  cassette = dir.file('conversation.json');
  // welcome, "hello" → "You said: hello", "second" → "You said: second", over the stream.
  const emu = await startEmulator({});
  const rec = await startRecorder({ upstream: emu.domain, cassette, port: 0 });
  const dl = createDirectLine({ domain: rec.domain, secret: emu.secret, webSocket: true });
  try {
    await waitForActivities(dl, (a) => a.some((x) => x.text === WELCOME));
    for (const text of ['hello', 'second']) {
      await postAndWait(dl, { type: 'message', text, from: { id: 'user-1' } });
      await waitForActivities(dl, (a) => a.some((x) => x.text === `You said: ${text}`));
    }
  } finally {
    endDirectLine(dl);
    await rec.close();
    await emu.close();
  }
});

after(async () => {
  for (const clean of cleanups.reverse()) await clean().catch(() => {});
  await browser?.close();
  await dir?.cleanup();
});

async function open(faults: string[]): Promise<{ r: Replayer; logs: any[]; page: Page; errors: string[]; why: () => string }> {
  const { lines, logger } = captureLogs();
  const r = await startReplayer({ cassette, speed: 1, demoPage: true, faults, logger });
  cleanups.push(() => r.close());
  const context = await browser!.newContext({ viewport: VIEWPORT });
  cleanups.push(() => context.close());
  const page = await context.newPage();
  const errors = collectErrors(page);
  await page.goto(r.demoPageUrl!);
  const why = () => (errors.length ? `\nbrowser errors:\n${errors.join('\n')}` : '');
  await botBubble(page, WELCOME)
    .waitFor({ timeout: 10_000 })
    .catch((err: Error) => assert.fail(`no welcome bubble: ${err.message}${why()}`));
  return { r, logs: lines, page, errors, why };
}

describe('Web Chat in Chromium against faults', () => {
  it('drop-stream@frame=2: the stream drops after the echo, Web Chat reconnects and the conversation goes on', {
    timeout: 90_000,
  }, async () => {
    const { r, logs, page, why } = await open(['drop-stream@frame=2']);
    await sendAsPerson(page, 'hello');
    // Web Chat's client waits 3-15 s (random) before it reconnects.
    await botBubble(page, 'You said: hello')
      .waitFor({ timeout: 30_000 })
      .catch((err: Error) => assert.fail(`no reply after the reconnect: ${err.message}${why()}`));
    await sendAsPerson(page, 'second');
    await botBubble(page, 'You said: second').waitFor({ timeout: 10_000 });
    const acts = await waitAllSent(page);
    const said = acts.filter((a) => a.type === 'message').map((a) => `${a.role}: ${a.text}`);
    assert.deepEqual(
      said,
      [`bot: ${WELCOME}`, 'user: hello', 'bot: You said: hello', 'user: second', 'bot: You said: second'],
      'each once, in order',
    );
    for (const t of ['hello', 'second']) assert.equal(await userBubble(page, t).count(), 1);
    assert.equal(await sendFailed(page).count(), 0);
    assert.deepEqual(
      r.injectedFaults().map((f) => [f.kind, f.frame]),
      [['drop-stream', 2]],
    );
    assert.equal(logs.filter((l) => l.route === 'conversations.reconnect' && l.msg === 'replayed').length, 1, 'Web Chat reconnected once');
    await page.screenshot({ path: join(DOCS, 'faults-drop-stream.png') });
  });

  it('status=500@route=activities.post,nth=1: "Send failed. Retry", and a click on Retry sends it', { timeout: 90_000 }, async () => {
    const { r, page, why } = await open(['status=500@route=activities.post,nth=1']);
    await sendAsPerson(page, 'hello');
    // DirectLineJS answers a 500 with "retry" and no echo comes: Web Chat marks the send failed after its 20 s sendTimeout.
    const failed = sendFailed(page);
    await failed.waitFor({ timeout: 30_000 }).catch((err: Error) => assert.fail(`no "Send failed": ${err.message}${why()}`));
    assert.match(await failed.innerText(), /Send failed\. Retry/);
    await page.screenshot({ path: join(DOCS, 'faults-send-failed.png') });
    await failed.getByText('Retry').click();
    await botBubble(page, 'You said: hello')
      .waitFor({ timeout: 10_000 })
      .catch((err: Error) => assert.fail(`Retry did not send it: ${err.message}${why()}`));
    // Web Chat resends a copy (a new clientActivityID); the copy's echo arrives, so it is "sent".
    const hellos = (await storeActivities(page)).filter((a) => a.role === 'user' && a.text === 'hello');
    assert.ok(
      hellos.some((a) => a.sendStatus === 'sent'),
      `the retried message was delivered: ${JSON.stringify(hellos)}`,
    );
    await page.screenshot({ path: join(DOCS, 'faults-send-retried.png') });
    assert.deepEqual(
      r.injectedFaults().map((f) => [f.kind, f.status]),
      [['status', 500]],
    );
    assert.equal(r.summary().unmatched, 0);
  });

  it('expire-token@after=2s: the next send gets 403 and Web Chat shows its connectivity error', { timeout: 60_000 }, async () => {
    const { r, page, why } = await open(['expire-token@after=2s']);
    await page.waitForTimeout(2500);
    await sendAsPerson(page, 'hello');
    await page
      .getByText('Unable to connect.')
      .first()
      .waitFor({ timeout: 10_000 })
      .catch((err: Error) => assert.fail(`no connectivity error: ${err.message}${why()}`));
    assert.equal(await botBubble(page, 'You said: hello').count(), 0);
    assert.ok(r.injectedFaults().some((f) => f.kind === 'expire-token' && f.status === 403));
    await page.screenshot({ path: join(DOCS, 'faults-expired-token.png') });
  });
});
