// Chromium (Debian's /usr/bin/chromium, driven by playwright-core) and what the tests read from Web Chat's DOM.
//
// Selectors come from botframework-webchat 4.18.1's dist/webchat.js:
//  - send status: <span class="webchat__activity-status webchat__activity-status--sending"> is rendered for an
//    outgoing activity while its send status is "sending" (text "Sending") or "send failed" (text from
//    ACTIVITY_STATUS_SEND_FAILED_RETRY, en-US "Send failed. [Retry][RETRY]." → "Send failed. Retry."). Once the
//    echo arrived it is replaced by the timestamp. The page also exposes Web Chat's redux store
//    (window.directLineVcr.store), whose activities carry channelData["webchat:send-status"]:
//    "sending" | "sent" | "send failed" — the authoritative value.
//  - typing: <div class="webchat__typing-indicator"> while a bot's typing activity is recent (5 s,
//    typingAnimationDuration) and no message from that bot followed it.
//  - bubbles: .webchat__bubble, .webchat__bubble--from-user for the user's; send box: .webchat__send-box-text-box__input.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.DLVCR_CHROMIUM || '/usr/bin/chromium';
/** Headless Chromium on this machine: no sandbox as root, and none of its background connections (no network here). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
] as const;

export const SELECTORS = {
  sendBox: '.webchat__send-box-text-box__input',
  bubble: '.webchat__bubble',
  userBubble: '.webchat__bubble--from-user',
  sendStatus: '.webchat__activity-status--sending',
  typing: '.webchat__typing-indicator',
} as const;
export const SEND_FAILED_TEXT = 'Send failed';

/** Launches Chromium; fails (never skips) with what to install when it is missing. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}; the Web Chat browser tests need it. ` +
        'Install it with: apt-get update && apt-get install -y chromium  (Debian; see .ci/apt-packages), ' +
        'or point DLVCR_CHROMIUM at a Chromium/Chrome binary.',
    );
  }
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS] });
}

/** Page errors and console errors, to explain a failure. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console.error: ${msg.text()}`);
  });
  return errors;
}

/** Types into Web Chat's send box key by key and presses Enter, as a person would. */
export async function sendAsPerson(page: Page, text: string): Promise<void> {
  const box = page.locator(SELECTORS.sendBox);
  await box.click();
  await box.pressSequentially(text, { delay: 15 });
  await box.press('Enter');
}

/** The bot's bubble with exactly this text (user bubbles excluded). */
export function botBubble(page: Page, text: string) {
  return page
    .locator(`${SELECTORS.bubble}:not(${SELECTORS.userBubble})`)
    .filter({ hasText: new RegExp(`^\\s*${escapeRegExp(text)}\\s*$`) });
}

export function userBubble(page: Page, text: string) {
  return page.locator(SELECTORS.userBubble).filter({ hasText: new RegExp(`^\\s*${escapeRegExp(text)}\\s*$`) });
}

/** Send failures visible in the DOM. */
export function sendFailed(page: Page) {
  return page.locator(SELECTORS.sendStatus).filter({ hasText: SEND_FAILED_TEXT });
}

export interface StoredActivity {
  type: string;
  text?: string;
  role?: string;
  sendStatus?: string;
}

/** The activities in Web Chat's store, reduced to what the tests look at. */
export async function storeActivities(page: Page): Promise<StoredActivity[]> {
  return page.evaluate(() => {
    const w = window as unknown as { directLineVcr?: { store?: { getState(): { activities: any[] } } } };
    const state = w.directLineVcr?.store?.getState();
    if (!state) throw new Error('window.directLineVcr.store is missing: the demo page did not start Web Chat');
    return state.activities.map((a: any) => ({
      type: a.type,
      text: a.text,
      role: a.from?.role,
      sendStatus: a.channelData?.['webchat:send-status'],
    }));
  });
}

/** Waits until every user message in the store is "sent" (its echo arrived) and none is "send failed". */
export async function waitAllSent(page: Page, timeoutMs = 10_000): Promise<StoredActivity[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const acts = await storeActivities(page);
    const mine = acts.filter((a) => a.role === 'user' && a.type === 'message');
    const failed = mine.filter((a) => a.sendStatus === 'send failed');
    if (failed.length > 0) throw new Error(`send failed for ${JSON.stringify(failed.map((a) => a.text))}`);
    if (mine.length > 0 && mine.every((a) => a.sendStatus === 'sent')) return acts;
    if (Date.now() > deadline) throw new Error(`user messages not all sent after ${timeoutMs} ms: ${JSON.stringify(mine)}`);
    await page.waitForTimeout(100);
  }
}

export function ensureDirFor(file: string): void {
  mkdirSync(dirname(file), { recursive: true });
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
