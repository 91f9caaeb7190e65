// Crashes of the recorder CLI (a child process) while streams are busy:
//  - SIGTERM / SIGINT: the process flushes and exits 0; every frame any client saw is in the cassette, in order.
//  - SIGKILL with --flush-interval 100: the cassette on disk still loads and validates, holds only frames the
//    clients saw (a prefix of them, in order), and lacks at most the last flush interval's worth: every frame a
//    client had more than FLUSH + DLVCR_KILL_MARGIN_MS (default 400) ms before the kill is on disk.
// DLVCR_KILL_ROUNDS (default 3) sets how many SIGKILL moments are tried.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { loadCassette } from '../../src/cassette/load.js';
import { decodeFrame } from '../../src/cassette/body.js';
import type { Cassette, HttpEvent, WsCloseEvent, WsMessageEvent, WsOpenEvent } from '../../src/cassette/schema.js';
import { sleep } from '../support/async.js';
import { tempDir } from '../support/fs.js';
import { call } from '../support/http.js';
import { envNumber } from './env.js';
import { spawnRecorder, type RecorderProcess } from './processes.js';
import { Stream } from './stream-client.js';

const FLUSH_MS = 100;
const MARGIN_MS = envNumber('DLVCR_KILL_MARGIN_MS', 400);
const KILL_ROUNDS = Math.max(1, Math.floor(envNumber('DLVCR_KILL_ROUNDS', 3)));
const STREAMS = 4;

interface Busy {
  id: string;
  stream: Stream;
  post: Promise<{ status: number } | { error: string }>;
}

/** Starts STREAMS conversations through the recorder, each streaming a long burst (a frame every 5 ms). */
async function busyStreams(rec: RecorderProcess, emu: Emulator, burst: number): Promise<Busy[]> {
  return Promise.all(
    Array.from({ length: STREAMS }, async (_, i) => {
      const start = await call(rec.domain, 'POST', '/conversations', { bearer: emu.secret, body: { user: { id: `crash-${i}` } } });
      assert.equal(start.status, 201, start.text);
      const stream = await Stream.open(start.json.streamUrl);
      await stream.waitFor(() => stream.frames.length >= 1, 'welcome');
      const post = call(rec.domain, 'POST', `/conversations/${encodeURIComponent(start.json.conversationId)}/activities`, {
        bearer: emu.secret,
        body: { type: 'message', text: `burst ${burst}`, from: { id: `crash-${i}` } },
      }).then(
        (r) => ({ status: r.status }),
        (err: Error) => ({ error: String((err.cause as Error | undefined)?.message ?? err.message) }),
      );
      return { id: start.json.conversationId as string, stream, post };
    }),
  );
}

function recordedFrames(c: Cassette, conversationId: string): { socket: number; frames: string[] } {
  const open = c.events.find((e): e is WsOpenEvent => e.type === 'ws.open' && e.conversationId === conversationId);
  assert.ok(open, `a recorded stream for ${conversationId}`);
  const frames = c.events
    .filter((e): e is WsMessageEvent => e.type === 'ws.message' && e.socket === open.socket && e.from === 'server')
    .map((e) => decodeFrame(e.data).payload as string);
  return { socket: open.socket, frames };
}

/** Every DLVCR_ placeholder used in the events is declared in the header (written together, never torn apart). */
function assertPlaceholdersDeclared(text: string, c: Cassette): void {
  const used = new Set(text.match(/DLVCR_(?:SECRET|TOKEN|STREAMTOKEN|CUSTOM)_\d+/g) ?? []);
  for (const p of used) assert.ok(p in c.redaction.placeholders, `${p} is used but not declared in the header`);
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`${signal} in the middle of ${STREAMS} busy streams: exit 0, every frame the clients saw is in the cassette`, {
    timeout: 60_000,
  }, async () => {
    const emu = await startEmulator({ bot: { postDelayMs: 300 } });
    const tmp = await tempDir();
    const file = tmp.file(`${signal}.json`);
    // A flush interval far beyond the test: only the signal's flush can put the frames on disk.
    const rec = await spawnRecorder(['--upstream', emu.domain, '--cassette', file, '--flush-interval', '60000', '--log-level', 'warn']);
    try {
      const busy = await busyStreams(rec, emu, 1000);
      await Promise.all(busy.map((b) => b.stream.waitFor(() => b.stream.count('"burst ') >= 20, 'the burst under way')));
      rec.child.kill(signal);
      const exit = await rec.exited;
      assert.deepEqual(exit, { code: 0, signal: null }, rec.stderr().slice(-2000));
      const text = await readFile(file, 'utf8');
      const c = await loadCassette(file);
      assertPlaceholdersDeclared(text, c);
      let extra = 0;
      for (const b of busy) {
        const closed = await b.stream.closed;
        assert.deepEqual([closed.code, closed.reason], [1001, 'directline-vcr stopped']);
        const { socket, frames } = recordedFrames(c, b.id);
        const seen = b.stream.frames.map((f) => f.text);
        assert.ok(seen.length >= 21 && seen.length < 1000, `the signal came mid-burst (${seen.length} frames seen)`);
        assert.deepEqual(frames.slice(0, seen.length), seen, 'every frame the client saw, in order');
        // Frames the upstream sent during the close handshake are captured but no longer delivered.
        extra += frames.length - seen.length;
        const closes = c.events.filter((e): e is WsCloseEvent => e.type === 'ws.close' && e.socket === socket);
        assert.deepEqual(
          closes.map((e) => [e.by, e.code, e.reason]),
          [['proxy', 1001, 'directline-vcr stopped']],
        );
      }
      // The POSTs were in flight (the upstream takes 300 ms to answer them): each client got an answer or lost
      // its connection; an exchange is in the cassette exactly when it completed before the recorder stopped.
      const posts = await Promise.all(busy.map((b) => b.post));
      const recordedPosts = c.events.filter((e): e is HttpEvent => e.type === 'http' && e.route === 'activities.post');
      const answered = posts.filter((p) => 'status' in p && p.status === 200).length;
      assert.equal(recordedPosts.length, answered, `recorded POSTs vs answered ones: ${JSON.stringify(posts)}`);
      console.log(
        `${signal} ${JSON.stringify({ framesSeen: busy.map((b) => b.stream.frames.length), capturedNotDelivered: extra, posts })}`,
      );
    } finally {
      await rec.kill();
      await emu.close();
      await tmp.cleanup();
    }
  });
}

test(`SIGKILL (${KILL_ROUNDS} moments), --flush-interval ${FLUSH_MS}: the cassette loads, lacks at most ${FLUSH_MS} + ${MARGIN_MS} ms`, {
  timeout: 30_000 + KILL_ROUNDS * 20_000,
}, async () => {
  const emu = await startEmulator({});
  const tmp = await tempDir();
  const results: Array<Record<string, unknown>> = [];
  try {
    for (let round = 0; round < KILL_ROUNDS; round++) {
      const file = tmp.file(`kill-${round}.json`);
      const rec = await spawnRecorder([
        '--upstream',
        emu.domain,
        '--cassette',
        file,
        '--flush-interval',
        String(FLUSH_MS),
        '--log-level',
        'warn',
      ]);
      try {
        const busy = await busyStreams(rec, emu, 1000);
        // Kill 0.3 s, 0.8 s, 1.3 s … into the bursts.
        await sleep(300 + 500 * round);
        const killedAt = performance.now();
        rec.child.kill('SIGKILL');
        const exit = await rec.exited;
        assert.equal(exit.signal, 'SIGKILL');
        await Promise.all(busy.map((b) => b.stream.closed));

        const text = await readFile(file, 'utf8');
        const c = await loadCassette(file); // a complete, valid cassette: never a torn write
        assertPlaceholdersDeclared(text, c);
        let seenTotal = 0;
        let onDisk = 0;
        let worstGapMs = 0;
        for (const b of busy) {
          const { frames } = recordedFrames(c, b.id);
          const seen = b.stream.frames;
          seenTotal += seen.length;
          onDisk += frames.length;
          assert.ok(frames.length <= seen.length, `the cassette holds ${frames.length} frames, the client saw ${seen.length}`);
          assert.deepEqual(
            frames,
            seen.slice(0, frames.length).map((f) => f.text),
            'what is on disk is what the client saw, in order',
          );
          const firstMissing = seen[frames.length];
          if (firstMissing) {
            const gap = killedAt - firstMissing.at;
            worstGapMs = Math.max(worstGapMs, gap);
            assert.ok(
              gap <= FLUSH_MS + MARGIN_MS,
              `a frame the client had ${gap.toFixed(0)} ms before the kill is not on disk (flush interval ${FLUSH_MS} ms + ` +
                `margin ${MARGIN_MS} ms)`,
            );
          }
        }
        const leftovers = (await readdir(tmp.dir)).filter((n) => n.includes(`kill-${round}`) && n !== `kill-${round}.json`);
        results.push({
          killAfterMs: 300 + 500 * round,
          framesSeen: seenTotal,
          framesOnDisk: onDisk,
          lostFrames: seenTotal - onDisk,
          oldestLostFrameMsBeforeKill: Math.round(worstGapMs),
          tempFilesLeft: leftovers.length,
        });
      } finally {
        await rec.kill();
      }
    }
    console.log(`SIGKILL ${JSON.stringify(results)}`);
  } finally {
    await emu.close();
    await tmp.cleanup();
  }
});
