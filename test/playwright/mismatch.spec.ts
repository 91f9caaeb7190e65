// Replays the example's WebSocket cassette but sends a message it never recorded: the fixture must fail the
// test with the replay's mismatch text (test/playwright/fixture.test.ts expects exactly that failure).
import { join } from 'node:path';
import { test, expect } from 'directline-vcr/playwright';

const dir = process.env.DLVCR_CASSETTE_DIR;
if (!dir) throw new Error('mismatch.spec.ts needs DLVCR_CASSETTE_DIR (the folder the example recorded into)');

test.use({ directlineOptions: { mode: 'replay', cassette: join(dir, 'chat.spec.ts', 'answers over the WebSocket.json') } });

test('sends a message the cassette never recorded', async ({ page }) => {
  await page.route('**/api/directline/token', (route) => route.fulfill({ json: { token: 'replayed-offline' } }));
  await page.goto('/');
  await expect(page.locator('.webchat__bubble').filter({ hasText: 'Welcome to the emulator bot!' })).toBeVisible();
  const box = page.locator('.webchat__send-box-text-box__input');
  await box.fill('a message nobody recorded');
  await box.press('Enter');
  // The replay answers the post with a 400 ReplayMismatch, which Web Chat shows as a failed send.
  await expect(page.locator('.webchat__activity-status--sending').filter({ hasText: 'Send failed' })).toBeVisible();
});
