// A recorder stopped while an exchange is in flight waits for it briefly, answers the client and records it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { startRecorder } from '../../src/record/recorder.js';
import { loadCassette } from '../../src/cassette/load.js';
import { startEmulator } from '../emulator/index.js';
import { sleep } from '../support/async.js';
import { tempDir } from '../support/fs.js';

test('close() lets an in-flight POST finish: the client gets its answer and the cassette holds the exchange', async () => {
  const tmp = await tempDir('dlvcr-shutdown-');
  const emulator = await startEmulator({ bot: { postDelayMs: 400 } });
  try {
    const cassette = tmp.file('c.json');
    const rec = await startRecorder({ upstream: emulator.domain, cassette });
    const start = await fetch(`${rec.domain}/conversations`, { method: 'POST', headers: { authorization: `Bearer ${emulator.secret}` } });
    const { conversationId } = (await start.json()) as { conversationId: string };
    const post = fetch(`${rec.domain}/conversations/${conversationId}/activities`, {
      method: 'POST',
      headers: { authorization: `Bearer ${emulator.secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'message', text: 'in flight', from: { id: 'u' } }),
    });
    await sleep(100); // the POST is now waiting for the bot
    const closed = rec.close();
    const res = await post;
    assert.equal(res.status, 200);
    await closed;
    const posts = (await loadCassette(cassette)).events.filter((e) => e.type === 'http' && e.route === 'activities.post');
    assert.equal(posts.length, 1, 'the in-flight exchange is in the cassette');
  } finally {
    await emulator.close();
    await tmp.cleanup();
  }
});

test('a busy port fails the start before the cassette is touched: an existing cassette is kept as it was', async () => {
  const tmp = await tempDir('dlvcr-busy-');
  const emulator = await startEmulator();
  const first = await startRecorder({ upstream: emulator.domain, port: 0 });
  try {
    const cassette = tmp.file('keep.json');
    const before = await readFile(new URL('../../recordings/demo.json', import.meta.url), 'utf8');
    await writeFile(cassette, before);
    await assert.rejects(startRecorder({ upstream: emulator.domain, cassette, port: first.port }), /EADDRINUSE/);
    assert.equal(await readFile(cassette, 'utf8'), before);
  } finally {
    await first.close();
    await emulator.close();
    await tmp.cleanup();
  }
});
