// Vitest drives a replayed conversation through the package's public entry point (`directline-vcr`).
// Run by test/api/runners.test.ts as `vitest run --config test/api/runners/vitest.config.ts`.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startReplayer, type Replayer } from 'directline-vcr';

let vcr: Replayer;
beforeAll(async () => {
  vcr = await startReplayer({ cassette: 'recordings/demo.json', speed: 0 }); // 0 = instant
});
afterAll(() => vcr.close());

test('the demo bot answers Hello', async () => {
  const start = await fetch(`${vcr.domain}/conversations`, { method: 'POST', headers: { authorization: 'Bearer anything' } });
  expect(start.status).toBe(201);
  const { conversationId, token } = (await start.json()) as { conversationId: string; token: string };
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const url = `${vcr.domain}/conversations/${conversationId}/activities`;
  const posted = await fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify({ type: 'message', text: 'Hello', from: { id: 'me' } }),
  });
  expect(posted.status).toBe(200);

  const texts: string[] = [];
  let watermark = '';
  for (let i = 0; i < 100 && !texts.some((t) => t.startsWith('Hello! I am')); i++) {
    const page = (await (await fetch(`${url}?watermark=${watermark}`, { headers })).json()) as {
      activities: Array<{ type: string; text?: string }>;
      watermark: string;
    };
    texts.push(...page.activities.filter((a) => a.type === 'message').map((a) => a.text ?? ''));
    watermark = page.watermark;
    await new Promise((r) => setTimeout(r, 20));
  }
  expect(texts).toContain('Hello');
  expect(texts.find((t) => t.startsWith('Hello! I am'))).toBeDefined();
  expect(vcr.summary().unmatched).toBe(0);
});
