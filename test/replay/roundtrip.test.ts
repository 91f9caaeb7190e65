// End to end: the official client records a conversation through the recorder against the test
// emulator, then an unchanged client replays that cassette (WebSocket and polling).
import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startReplayer, type Replayer } from '../../src/replay/index.js';
import { startRecorder } from '../../src/record/recorder.js';
import { startEmulator } from '../emulator/index.js';
import { activitiesOf, createDirectLine, endDirectLine, postAndWait, waitForActivities } from '../support/directline-client.js';
import { call } from '../support/http.js';
import { tempDir, type TempDir } from '../support/fs.js';

let tmp: TempDir;
let cassette = '';
const open: Replayer[] = [];
before(async () => {
  tmp = await tempDir('dlvcr-roundtrip-');
});
after(async () => {
  await Promise.all(open.map((r) => r.close()));
  await tmp.cleanup();
});

const textsOf = (activities: any[]) => activities.filter((a) => a.type !== 'typing').map((a) => a.text);
const has = (text: string) => (activities: any[]) => activities.some((a) => a.text === text);
const message = (text: string, cid: string) => ({
  type: 'message',
  text,
  from: { id: 'dl_rt-user', name: 'RT' },
  channelData: { clientActivityID: cid },
});

async function run(domain: string, token: string, webSocket: boolean): Promise<any[]> {
  const dl = createDirectLine({ domain, token, webSocket, pollingInterval: 200 });
  try {
    await waitForActivities(dl, has('Welcome to the emulator bot!'));
    await postAndWait(dl, message('hello', 'rt-1'));
    await waitForActivities(dl, has('You said: hello'));
    await postAndWait(dl, message('burst 2', 'rt-2'));
    await waitForActivities(dl, has('burst 2/2'));
    return [...activitiesOf(dl)];
  } finally {
    endDirectLine(dl);
  }
}

describe('record with the recorder, replay with the replayer', () => {
  it('replays what the recorder wrote to an unchanged client, over the stream and by polling', async () => {
    const emulator = await startEmulator({ keepAliveMs: 100 });
    cassette = tmp.file('rt.json');
    const recorder = await startRecorder({ upstream: emulator.domain, cassette });
    let recorded: any[];
    try {
      const gen = await call(recorder.domain, 'POST', '/tokens/generate', {
        bearer: emulator.secret,
        body: { user: { id: 'dl_rt-user' } },
      });
      assert.equal(gen.status, 200);
      recorded = await run(recorder.domain, gen.body.token, true);
    } finally {
      await recorder.close();
      await emulator.close();
    }
    for (const webSocket of [true, false]) {
      const r = await startReplayer({ cassette, speed: 4 });
      open.push(r);
      const gen = await call(r.domain, 'POST', '/tokens/generate', { bearer: 'any-secret', body: { user: { id: 'dl_rt-user' } } });
      assert.equal(gen.status, 200);
      const replayed = await run(r.domain, gen.body.token, webSocket);
      assert.deepEqual(textsOf(replayed), textsOf(recorded), `webSocket: ${webSocket}`);
      assert.equal(replayed.find((a) => a.text === 'hello').channelData.clientActivityID, 'rt-1');
      const s = r.summary();
      assert.equal(s.unmatched, 0, JSON.stringify(s.unmatchedRequests));
    }
  });
});
