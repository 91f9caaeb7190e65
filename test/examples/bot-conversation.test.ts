import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import WebSocket from 'ws';
import { DirectLine } from 'botframework-directlinejs';
import { startReplayer } from 'directline-vcr';

// botframework-directlinejs in Node needs a global XMLHttpRequest and WebSocket.
Object.assign(globalThis, { XMLHttpRequest: createRequire(import.meta.url)('xhr2'), WebSocket });

test('the demo bot answers Hello', async () => {
  const vcr = await startReplayer({ cassette: 'recordings/demo.json', speed: 0 }); // 0 = instant
  const dl = new DirectLine({ domain: vcr.domain, token: 'anything' });
  const replies: string[] = [];
  const got = new Promise<void>((resolve) =>
    dl.activity$.subscribe(
      (a) => {
        if (a.from.role === 'bot' && a.type === 'message') replies.push(a.text ?? '');
        if (replies.some((t) => t.startsWith('Hello! I am'))) resolve();
      },
      () => {},
    ),
  );
  dl.postActivity({ type: 'message', text: 'Hello', from: { id: 'me' } }).subscribe();
  await got;
  assert.equal(replies[0], 'Welcome to the directline-vcr demo bot!');
  dl.end();
  await vcr.close();
  assert.equal(vcr.summary().unmatched, 0);
});
