// Jest drives a replayed conversation through the package's public entry point (`directline-vcr`).
// Run by test/api/runners.test.ts as `node --experimental-vm-modules jest --config test/api/runners/jest.config.mjs`.
// test, expect, beforeAll and afterAll are Jest's globals.
import { startReplayer } from 'directline-vcr';

let vcr;
beforeAll(async () => {
  vcr = await startReplayer({ cassette: 'recordings/demo.json', speed: 0 }); // 0 = instant
});
afterAll(() => vcr.close());

test('the demo bot answers Hello', async () => {
  const start = await fetch(`${vcr.domain}/conversations`, { method: 'POST', headers: { authorization: 'Bearer anything' } });
  expect(start.status).toBe(201);
  const { conversationId, token } = await start.json();
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const url = `${vcr.domain}/conversations/${conversationId}/activities`;
  const posted = await fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify({ type: 'message', text: 'Hello', from: { id: 'me' } }),
  });
  expect(posted.status).toBe(200);

  const texts = [];
  let watermark = '';
  for (let i = 0; i < 100 && !texts.some((t) => t.startsWith('Hello! I am')); i++) {
    const page = await (await fetch(`${url}?watermark=${watermark}`, { headers })).json();
    texts.push(...page.activities.filter((a) => a.type === 'message').map((a) => a.text ?? ''));
    watermark = page.watermark;
    await new Promise((r) => setTimeout(r, 20));
  }
  expect(texts).toContain('Hello');
  expect(texts.find((t) => t.startsWith('Hello! I am'))).toBeDefined();
  expect(vcr.summary().unmatched).toBe(0);
});
