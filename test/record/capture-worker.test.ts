// The capture worker (src/record/capture-worker.ts, fed by capture-client.ts): when it falls behind the relay,
// the relay pauses the sockets it reads from (new HTTP requests wait), says so in the log, and resumes once the
// worker caught up; no frame or exchange is dropped on the way to the client or the cassette.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startRecorder } from '../../src/record/recorder.js';
import { loadCassette } from '../../src/cassette/load.js';
import { collectingLogger, httpEvents, startMiniUpstream, StreamClient, wsMessages } from './helpers.js';
import { startEmulator } from '../emulator/index.js';
import { call } from '../support/http.js';
import { tempDir } from '../support/fs.js';

test('a worker behind by more than captureQueueBytes: sockets paused and resumed, every frame delivered and kept in order', async () => {
  const FRAMES = 3000;
  const up = await startMiniUpstream();
  const tmp = await tempDir();
  const log = collectingLogger();
  const file = tmp.file('c.json');
  // 16 KiB: one socket read of a burst holds more than that, so the bound is crossed again and again.
  const rec = await startRecorder({ upstream: up.domain, cassette: file, captureQueueBytes: 16 * 1024, logger: log.logger });
  try {
    const pad = 'x'.repeat(2000);
    up.onConnection = (s) => {
      for (let i = 0; i < FRAMES; i++)
        s.ws.send(JSON.stringify({ activities: [{ type: 'message', id: `conv-1|${i}`, text: `frame ${i}`, pad }], watermark: String(i) }));
    };
    const client = await StreamClient.open(`ws://127.0.0.1:${rec.port}/v3/directline/conversations/conv-1/stream?t=x`);
    await client.waitFor((c) => c.frames.length === FRAMES, `${FRAMES} frames`, 30_000);
    assert.deepEqual(
      client.frames.map((f) => JSON.parse(f).watermark),
      Array.from({ length: FRAMES }, (_, i) => String(i)),
      'the client got every frame, in order',
    );
    await client.close();
    await rec.close();
    const c = await loadCassette(file);
    const texts = wsMessages(c)
      .filter((m) => m.from === 'server')
      .map((m) => ('json' in m.data ? (m.data.json as { watermark: string }).watermark : null));
    assert.deepEqual(
      texts,
      Array.from({ length: FRAMES }, (_, i) => String(i)),
      'the cassette holds every frame, in order',
    );
    const text = log.text();
    assert.match(text, /the capture worker is behind: pausing the relayed sockets/);
    assert.match(text, /the capture worker caught up: the relayed sockets resume/);
  } finally {
    await rec.close();
    await up.close();
    await tmp.cleanup();
  }
});

test('the bound counts what the worker holds until it is on disk: a burst is written while it streams, not after', async () => {
  const FRAMES = 2000;
  const BOUND = 64 * 1024;
  const up = await startMiniUpstream();
  const tmp = await tempDir();
  const file = tmp.file('c.json');
  // A flush timer that never fires during the test: only the bound makes the worker write before close.
  const rec = await startRecorder({ upstream: up.domain, cassette: file, captureQueueBytes: BOUND, flushIntervalMs: 600_000 });
  try {
    const pad = 'z'.repeat(2000);
    up.onConnection = (s) => {
      for (let i = 0; i < FRAMES; i++)
        s.ws.send(JSON.stringify({ activities: [{ type: 'message', id: `conv-1|${i}`, pad }], watermark: String(i) }));
    };
    const client = await StreamClient.open(`ws://127.0.0.1:${rec.port}/v3/directline/conversations/conv-1/stream?t=x`);
    await client.waitFor((c) => c.frames.length === FRAMES, `${FRAMES} frames`, 30_000);
    // All but about the bound's worth (2 KB frames) and one socket read beyond it must be on disk already.
    const onDisk = wsMessages(await loadCassette(file)).filter((m) => m.from === 'server').length;
    assert.ok(onDisk >= FRAMES - 2 * Math.ceil(BOUND / 2000) - 8, `${onDisk} of ${FRAMES} frames on disk while recording`);
    await client.close();
  } finally {
    await rec.close();
    await up.close();
    await tmp.cleanup();
  }
});

test('HTTP while the worker is behind: new requests wait until it caught up; every exchange is answered and recorded', async () => {
  const POSTS = 40;
  const emu = await startEmulator({});
  const tmp = await tempDir();
  const log = collectingLogger();
  const file = tmp.file('c.json');
  // 1 KiB: every exchange (a 4 KB body) crosses the bound on its own.
  const rec = await startRecorder({ upstream: emu.domain, cassette: file, captureQueueBytes: 1024, logger: log.logger });
  try {
    const start = await call(rec.domain, 'POST', '/conversations', { bearer: emu.secret });
    assert.equal(start.status, 201);
    const id = encodeURIComponent(start.json.conversationId);
    const pad = 'y'.repeat(4000);
    const answers = await Promise.all(
      Array.from({ length: POSTS }, (_, i) =>
        call(rec.domain, 'POST', `/conversations/${id}/activities`, {
          bearer: emu.secret,
          body: { type: 'message', text: `post ${i}`, from: { id: 'user-1' }, channelData: { pad } },
        }),
      ),
    );
    assert.deepEqual(
      answers.map((a) => a.status),
      Array.from({ length: POSTS }, () => 200),
    );
    await rec.close();
    const posts = httpEvents(await loadCassette(file)).filter((e) => e.route === 'activities.post');
    const texts = posts.map((e) => (e.request.body && 'json' in e.request.body ? (e.request.body.json as { text: string }).text : null));
    assert.deepEqual(texts.sort(), Array.from({ length: POSTS }, (_, i) => `post ${i}`).sort());
    assert.match(log.text(), /the capture worker is behind/);
  } finally {
    await rec.close();
    await emu.close();
    await tmp.cleanup();
  }
});
