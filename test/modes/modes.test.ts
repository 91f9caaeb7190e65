// Record modes (record / replay / auto / passthrough) through the programmatic API, with the official
// client against the test upstream.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startVcr, loadCassette } from '../../src/index.js';
import { startEmulator } from '../emulator/index.js';
import { createDirectLine, endDirectLine, postAndWait, waitForActivities } from '../support/directline-client.js';
import { tempDir } from '../support/fs.js';

async function converse(domain: string, secret: string): Promise<string[]> {
  const dl = createDirectLine({ domain, secret, webSocket: true });
  try {
    await waitForActivities(dl, (a) => a.some((x) => x.text === 'Welcome to the emulator bot!'), 5000);
    await postAndWait(dl, { type: 'message', text: 'hello', from: { id: 'u1' } });
    const acts = await waitForActivities(dl, (a) => a.some((x) => x.text === 'You said: hello'), 5000);
    return acts.filter((a) => a.type === 'message').map((a) => a.text);
  } finally {
    endDirectLine(dl);
  }
}

describe('record modes', () => {
  it('auto records when the cassette is missing, then replays it with the upstream gone', async () => {
    const tmp = await tempDir('dlvcr-modes-');
    const cassette = tmp.file('auto.json');
    try {
      const emulator = await startEmulator();
      const first = await startVcr({ mode: 'auto', cassette, upstream: emulator.domain, port: 0 });
      assert.equal(first.mode, 'record');
      const live = await converse(first.domain, emulator.secret);
      await first.close();
      await emulator.close();
      assert.ok((await loadCassette(cassette)).events.length > 0);

      const second = await startVcr({ mode: 'auto', cassette, upstream: emulator.domain, port: 0, speed: 0 });
      assert.equal(second.mode, 'replay', 'a cassette with a recording is replayed');
      const replayed = await converse(second.domain, 'any-secret');
      await second.close();
      assert.deepEqual(replayed, live);
      assert.equal(second.summary()?.unmatched, 0);
    } finally {
      await tmp.cleanup();
    }
  });

  it('passthrough proxies and writes nothing', async () => {
    const emulator = await startEmulator();
    try {
      const vcr = await startVcr({ mode: 'passthrough', upstream: emulator.domain, port: 0 });
      assert.equal(vcr.mode, 'passthrough');
      assert.equal(vcr.cassettePath, null);
      const texts = await converse(vcr.domain, emulator.secret);
      assert.ok(texts.includes('You said: hello'));
      await vcr.close();
    } finally {
      await emulator.close();
    }
  });

  it('replay never goes upstream, and record without a cassette is refused', async () => {
    await assert.rejects(startVcr({ mode: 'record', port: 0 }), /needs a cassette/);
    await assert.rejects(startVcr({ mode: 'replay', cassette: '/nonexistent/x.json', port: 0 }), /nonexistent\/x\.json/);
  });
});
