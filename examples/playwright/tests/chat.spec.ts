// The page under test sets no Direct Line domain. The `directline` fixture routes https://directline.botframework.com
// (HTTP and the WebSocket) to tests' own cassettes: recordings/chat.spec.ts/<test title>.json.
//   DLVCR_MODE=record npx playwright test   records (through DLVCR_UPSTREAM, default the hosted service)
//   DLVCR_MODE=replay npx playwright test   replays offline (the default when CI is set)
import { test, expect } from 'directline-vcr/playwright';
import type { Page } from '@playwright/test';

test.beforeEach(async ({ page, directline }) => {
  // The token comes from the app's own backend. Offline there is no service to ask, and the replay takes any token.
  if (directline.mode === 'replay') {
    await page.route('**/api/directline/token', (route) => route.fulfill({ json: { token: 'replayed-offline' } }));
  }
});

async function say(page: Page, text: string) {
  const box = page.locator('.webchat__send-box-text-box__input');
  await box.fill(text);
  await box.press('Enter');
}

const botSays = (page: Page, text: string) => page.locator('.webchat__bubble:not(.webchat__bubble--from-user)').filter({ hasText: text });

test('answers over the WebSocket', async ({ page, directline }) => {
  await page.goto('/');
  await expect(botSays(page, 'Welcome to the emulator bot!')).toBeVisible();
  await say(page, 'hello');
  await expect(botSays(page, 'You said: hello')).toBeVisible();
  expect(directline.summary()?.unmatched ?? 0).toBe(0);
});

test('answers when polling', async ({ page }) => {
  await page.goto('/?transport=polling');
  await expect(botSays(page, 'Welcome to the emulator bot!')).toBeVisible();
  await say(page, 'hello from polling');
  await expect(botSays(page, 'You said: hello from polling')).toBeVisible();
});
