// Load / soak: N concurrent conversations stream bot bursts through the recorder (the CLI, as a child process,
// so its RSS is its own) to the emulator for S seconds. Afterwards, per conversation:
//  - what the client saw: every activity the emulator created, once, in order (ids are `conv|seq`, so the
//    sequence numbers must be exactly 0..n-1), and the stored ones equal the emulator's own log (GET on the
//    emulator directly, bypassing the recorder);
//  - the cassette: the server frames of the conversation's socket equal the client's frames byte for byte
//    (keep-alives included), and every POST is recorded once with the id the client got;
//  - the recorder's peak RSS stays under a budget.
//
// Sizes (defaults keep `npm test` short):
//   DLVCR_SOAK_CONVERSATIONS (100)  DLVCR_SOAK_SECONDS (15)  DLVCR_SOAK_BURST (5 bot messages per user message)
//   DLVCR_SOAK_PAUSE_MS (1000, mean think time between rounds)  DLVCR_SOAK_RAMP_MS (2000, starts spread over)
//   DLVCR_SOAK_MAX_RSS_MB (budget, see below)  DLVCR_SOAK_EMULATOR (process | inline)
// Full size (see RELIABILITY.md):
//   DLVCR_SOAK_SECONDS=60 DLVCR_SOAK_CONVERSATIONS=500 node --import tsx --test test/reliability/soak.test.ts
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startEmulator } from '../emulator/index.js';
import { loadCassette } from '../../src/cassette/load.js';
import { decodeFrame } from '../../src/cassette/body.js';
import type { HttpEvent, WsCloseEvent, WsMessageEvent, WsOpenEvent } from '../../src/cassette/schema.js';
import { sleep } from '../support/async.js';
import { tempDir } from '../support/fs.js';
import { call } from '../support/http.js';
import { envNumber } from './env.js';
import { cpuSecondsOf, spawnEmulator, spawnRecorder } from './processes.js';
import { Stream } from './stream-client.js';

const CONVERSATIONS = Math.max(1, Math.floor(envNumber('DLVCR_SOAK_CONVERSATIONS', 100)));
const SECONDS = envNumber('DLVCR_SOAK_SECONDS', 15);
const BURST = Math.max(1, Math.min(1000, Math.floor(envNumber('DLVCR_SOAK_BURST', 5))));
const PAUSE_MS = envNumber('DLVCR_SOAK_PAUSE_MS', 1000);
/** Starts are spread over this many ms (default 2000), so a large N does not land in one tick. */
const RAMP_MS = envNumber('DLVCR_SOAK_RAMP_MS', 2000);
// Written events are let go, so the recorder's RSS does not grow with the cassette (179 MB at 500 × 60 s from dist/,
// BENCHMARKS.md §7); the budget keeps a fixed base plus an allowance per conversation-second as slack for a recorder
// run through tsx (a compiler in both threads) on a loaded machine.
const MAX_RSS_MB = envNumber('DLVCR_SOAK_MAX_RSS_MB', 300 + Math.ceil((CONVERSATIONS * SECONDS) / 25));
const KEEPALIVE_MS = 2000;
/** 'process' (default): the emulator runs in a child process of its own; 'inline': in the test process. */
const EMULATOR = process.env.DLVCR_SOAK_EMULATOR === 'inline' ? 'inline' : 'process';
/** DLVCR_SOAK_BASELINE=1: the same clients talk to the emulator directly (no recorder), to tell its latency from theirs. */
const BASELINE = process.env.DLVCR_SOAK_BASELINE === '1';
/** A round (POST + burst) that takes longer than this counts as a stall. */
const ROUND_TIMEOUT_MS = 30_000;

const MB = 1024 * 1024;
const seqOf = (id: string): number => Number(id.slice(id.lastIndexOf('|') + 1));

interface Outcome {
  i: number;
  conversationId: string;
  stream: Stream;
  postIds: string[];
  rounds: number;
  closedCode: number;
}

test(`soak: ${CONVERSATIONS} conversations × ${SECONDS} s of bursts via the recorder: nothing lost, duplicated or reordered; RSS bounded`, {
  timeout: SECONDS * 1000 + 180_000,
}, async () => {
  const emu =
    EMULATOR === 'inline'
      ? await startEmulator({ keepAliveMs: KEEPALIVE_MS }).then((e) => ({
          pid: process.pid,
          domain: e.domain,
          secret: e.secret,
          close: () => e.close(),
        }))
      : await spawnEmulator({ keepAliveMs: KEEPALIVE_MS });
  const lag = monitorEventLoopDelay({ resolution: 20 });
  const tmp = await tempDir('dlvcr-soak-');
  const file = tmp.file('soak.json');
  const rec = await spawnRecorder(['--upstream', emu.domain, '--cassette', file, '--log-level', 'warn'], { sampleEveryMs: 200 });
  const rssAtStart = rec.rss.peak;
  const target = BASELINE ? emu.domain : rec.domain;
  try {
    const began = performance.now();
    const cpu0 = { recorder: await cpuSecondsOf(rec.pid), emulator: await cpuSecondsOf(emu.pid), test: process.cpuUsage() };
    lag.enable();
    const deadline = began + SECONDS * 1000;
    let roundsDone = 0;
    const roundMs: number[] = [];
    const failedAt: number[] = [];
    const resets = new Map<number, number>();

    const runConversation = async (i: number): Promise<Outcome> => {
      await sleep(Math.random() * Math.min(RAMP_MS, SECONDS * 200));
      const start = await call(target, 'POST', '/conversations', { bearer: emu.secret, body: { user: { id: `soak-user-${i}` } } });
      assert.equal(start.status, 201, `conversation ${i}: start answered ${start.status} ${start.text}`);
      const conversationId: string = start.json.conversationId;
      const stream = await Stream.open(start.json.streamUrl);
      const postIds: string[] = [];
      let rounds = 0;
      const last = `"burst ${BURST}/${BURST}"`;
      while (performance.now() < deadline) {
        const roundStart = performance.now();
        let post: Pick<Awaited<ReturnType<typeof call>>, 'status' | 'headers' | 'text' | 'json'>;
        for (let attempt = 0; ; attempt++) {
          const sent = call(target, 'POST', `/conversations/${encodeURIComponent(conversationId)}/activities`, {
            bearer: emu.secret,
            body: { type: 'message', text: `burst ${BURST}`, from: { id: `soak-user-${i}` } },
            timeoutMs: ROUND_TIMEOUT_MS,
          });
          // Baseline only: the same keep-alive race hits the clients themselves against the emulator (5 s idle timeout).
          post = BASELINE
            ? await sent.catch((err: Error) => ({
                status: 502,
                headers: new Headers(),
                text: `ECONNRESET ${err.message}`,
                json: undefined,
              }))
            : await sent;
          // Known recorder issue (RELIABILITY.md): a request sent on a pooled keep-alive socket that the upstream
          // closed at the same moment is answered 502 ECONNRESET instead of being retried. The upstream never saw
          // it, so the client may send it again, as DirectLineJS does on a 5xx. Counted, checked below, reported.
          if (post.status === 502 && /ECONNRESET/.test(post.text) && attempt < 3) {
            resets.set(i, (resets.get(i) ?? 0) + 1);
            continue;
          }
          break;
        }
        if (post.status !== 200) failedAt.push(Math.round((performance.now() - began) / 100) / 10);
        assert.equal(
          post.status,
          200,
          `conversation ${i} round ${rounds + 1} (${((performance.now() - began) / 1000).toFixed(1)} s): POST answered ` +
            `${post.status} ${post.text}`,
        );
        postIds.push(post.json.id);
        rounds++;
        await stream.waitFor(() => stream.count(last) >= rounds, `conversation ${i}: burst of round ${rounds}`, ROUND_TIMEOUT_MS);
        roundsDone++;
        roundMs.push(performance.now() - roundStart);
        await sleep(PAUSE_MS * (0.5 + Math.random()));
      }
      await stream.close(1000);
      return { i, conversationId, stream, postIds, rounds, closedCode: (await stream.closed).code };
    };

    // Responsiveness probes: a request the recorder answers itself (404 outside its base path) and one the
    // emulator answers, every 100 ms; a slow answer means that process's event loop was stalled.
    const probes = { recorder: [] as Array<[number, number]>, emulator: [] as Array<[number, number]> };
    const probe = async (base: string, into: Array<[number, number]>) => {
      while (performance.now() < deadline) {
        const t = performance.now();
        await fetch(`${base}/__probe`, { signal: AbortSignal.timeout(30_000) }).then(
          (r) => r.arrayBuffer(),
          () => undefined,
        );
        into.push([Math.round((t - began) / 100) / 10, Math.round(performance.now() - t)]);
        await sleep(100);
      }
    };
    const probing = Promise.all([
      probe(rec.domain.replace(/\/v3\/directline$/, ''), probes.recorder),
      probe(new URL(emu.domain).origin, probes.emulator),
    ]);

    const settled = await Promise.allSettled(Array.from({ length: CONVERSATIONS }, (_, i) => runConversation(i)));
    await probing;
    const worst = (list: Array<[number, number]>) =>
      [...list]
        .sort((x, y) => y[1] - x[1])
        .slice(0, 3)
        .map(([at, ms]) => `${ms} ms at ${at} s`);
    const failures = settled.flatMap((s, i) => (s.status === 'rejected' ? [`#${i}: ${(s.reason as Error).message}`] : []));
    assert.deepEqual(
      failures.slice(0, 5),
      [],
      `${failures.length} of ${CONVERSATIONS} conversations failed; failed POSTs at (s): ${JSON.stringify(failedAt.slice(0, 60))}; ` +
        `slowest recorder probes: ${worst(probes.recorder)}; slowest emulator probes: ${worst(probes.emulator)}; peak RSS ` +
        `${(rec.rss.peak / MB).toFixed(0)} MB; recorder stderr: ${rec.stderr().slice(-600)}`,
    );
    const outcomes = settled.map((s) => (s as PromiseFulfilledResult<Outcome>).value);
    const loadSeconds = (performance.now() - began) / 1000;
    lag.disable();
    const testCpu = process.cpuUsage(cpu0.test);
    const cpu = {
      recorder: Number(((await cpuSecondsOf(rec.pid)) - cpu0.recorder).toFixed(1)),
      emulator: EMULATOR === 'inline' ? 'in test' : Number(((await cpuSecondsOf(emu.pid)) - cpu0.emulator).toFixed(1)),
      test: Number(((testCpu.user + testCpu.system) / 1e6).toFixed(1)),
    };

    // What the clients saw, against the emulator's own log (read directly, not through the recorder).
    let clientFrames = 0;
    let clientActivities = 0;
    for (const o of outcomes) {
      const seen = o.stream.activities();
      clientFrames += o.stream.frames.length;
      clientActivities += seen.length;
      const seqs = seen.map((a) => seqOf(a.id));
      assert.ok(
        seen.every((a) => typeof a.id === 'string' && a.id.startsWith(`${o.conversationId}|`)),
        `conversation ${o.i}: an activity of another conversation`,
      );
      assert.deepEqual(
        seqs,
        seqs.map((_, k) => k),
        `conversation ${o.i}: activity sequence numbers must be 0..n-1 (lost, duplicated or reordered)`,
      );
      // welcome + per round: echo, typing, BURST messages
      assert.equal(seen.length, 1 + o.rounds * (BURST + 2), `conversation ${o.i}: ${seen.length} activities for ${o.rounds} rounds`);
      const stored = await call(emu.domain, 'GET', `/conversations/${encodeURIComponent(o.conversationId)}/activities`, {
        bearer: emu.secret,
      });
      assert.equal(stored.status, 200);
      assert.deepEqual(
        seen.filter((a) => a.type !== 'typing').map((a) => a.id),
        stored.json.activities.map((a: any) => a.id),
        `conversation ${o.i}: stored activities`,
      );
      assert.deepEqual(
        o.postIds,
        seen.filter((a) => a.from?.role === 'user').map((a) => a.id),
        `conversation ${o.i}: POST ids are the echoes' ids`,
      );
      assert.equal(o.closedCode, 1000);
    }

    roundMs.sort((x, y) => x - y);
    const pct = (q: number) => Math.round(roundMs[Math.min(roundMs.length - 1, Math.floor(q * roundMs.length))] ?? 0);
    if (BASELINE) {
      console.log(
        `soak-baseline ${JSON.stringify({
          conversations: CONVERSATIONS,
          seconds: SECONDS,
          rounds: roundsDone,
          clientResets: [...resets.values()].reduce((a, b) => a + b, 0),
          clientFrames,
          framesPerSecond: Math.round(clientFrames / loadSeconds),
          roundMs: { p50: pct(0.5), p99: pct(0.99), max: Math.round(roundMs.at(-1) ?? 0) },
          cpuSeconds: cpu,
          testLoopLagMaxMs: Math.round(lag.max / 1e6),
          slowestProbeMs: { emulator: worst(probes.emulator)[0] },
        })}`,
      );
      return;
    }

    // Stop the recorder the way a person does (SIGTERM flushes), then read the cassette.
    rec.child.kill('SIGTERM');
    const exit = await rec.exited;
    rec.stopSampling();
    assert.deepEqual(exit, { code: 0, signal: null }, rec.stderr().slice(-2000));
    const size = (await stat(file)).size;
    const cassette = await loadCassette(file);
    const events = cassette.events;

    const openOf = new Map<string, WsOpenEvent[]>();
    const framesOf = new Map<number, WsMessageEvent[]>();
    const closeOf = new Map<number, WsCloseEvent[]>();
    const postsOf = new Map<string, HttpEvent[]>();
    for (const e of events) {
      if (e.type === 'ws.open') openOf.set(e.conversationId ?? '', [...(openOf.get(e.conversationId ?? '') ?? []), e]);
      else if (e.type === 'ws.message') {
        const list = framesOf.get(e.socket) ?? [];
        list.push(e);
        framesOf.set(e.socket, list);
      } else if (e.type === 'ws.close') closeOf.set(e.socket, [...(closeOf.get(e.socket) ?? []), e]);
      else if (e.type === 'http' && e.route === 'activities.post') {
        const list = postsOf.get(e.conversationId ?? '') ?? [];
        list.push(e);
        postsOf.set(e.conversationId ?? '', list);
      }
    }
    let undeliveredKeepAlives = 0;
    for (const o of outcomes) {
      const opens = openOf.get(o.conversationId) ?? [];
      assert.equal(opens.length, 1, `conversation ${o.i}: one recorded stream`);
      assert.equal(opens[0]!.status, 101);
      const socket = opens[0]!.socket;
      const recorded = (framesOf.get(socket) ?? []).map((m) => {
        assert.equal(m.from, 'server', `conversation ${o.i}: the client sent nothing`);
        return decodeFrame(m.data).payload;
      });
      const seen = o.stream.frames.map((f) => f.text);
      // The client's frames must be the cassette's, in order. The cassette may end with keep-alives that the
      // upstream sent while the client's close handshake was under way: the recorder captures them as they come
      // from the upstream but can no longer deliver them (the client socket is CLOSING). Nothing else may differ.
      const k = seen.findIndex((text, j) => recorded[j] !== text);
      assert.ok(
        k < 0 && recorded.length >= seen.length,
        `conversation ${o.i}: cassette has ${recorded.length} frames, the client saw ${seen.length}; first difference at ${k}: ` +
          `${JSON.stringify(recorded[k])} vs ${JSON.stringify(seen[k])}`,
      );
      const extra = recorded.slice(seen.length);
      assert.ok(
        extra.length <= 2 && extra.every((x) => x === ''),
        `conversation ${o.i}: frames in the cassette the client never saw: ${JSON.stringify(extra).slice(0, 300)}`,
      );
      undeliveredKeepAlives += extra.length;
      assert.deepEqual(
        (closeOf.get(socket) ?? []).map((c) => [c.by, c.code]),
        [['client', 1000]],
        `conversation ${o.i}: the close`,
      );
      const all = postsOf.get(o.conversationId) ?? [];
      const posts = all.filter((p) => p.response !== null);
      const reset = all.filter((p) => p.response === null);
      assert.equal(reset.length, resets.get(o.i) ?? 0, `conversation ${o.i}: recorded upstream errors vs the 502s the client got`);
      assert.ok(reset.every((p) => p.error?.code === 'ECONNRESET'));
      assert.deepEqual(
        posts.map((p) => p.response?.status),
        o.postIds.map(() => 200),
        `conversation ${o.i}: recorded POSTs`,
      );
      assert.deepEqual(
        posts.map((p) => (p.response!.body as { json: { id: string } }).json.id),
        o.postIds,
        `conversation ${o.i}: recorded POST ids, in order`,
      );
    }

    const peakMb = rec.rss.peak / MB;
    const summary = {
      conversations: CONVERSATIONS,
      seconds: SECONDS,
      burst: BURST,
      pauseMs: PAUSE_MS,
      loadSeconds: Number(loadSeconds.toFixed(1)),
      rounds: roundsDone,
      upstreamResets502: [...resets.values()].reduce((a, b) => a + b, 0),
      clientFrames,
      undeliveredKeepAlives,
      clientActivities,
      framesPerSecond: Math.round(clientFrames / loadSeconds),
      roundMs: { p50: pct(0.5), p99: pct(0.99), max: Math.round(roundMs.at(-1) ?? 0) },
      cpuSeconds: cpu,
      testLoopLagMaxMs: Math.round(lag.max / 1e6),
      emulator: EMULATOR,
      slowestProbeMs: { recorder: worst(probes.recorder)[0], emulator: worst(probes.emulator)[0] },
      cassetteEvents: events.length,
      cassetteMB: Number((size / MB).toFixed(1)),
      rssStartMB: Number((rssAtStart / MB).toFixed(0)),
      rssPeakMB: Number(peakMb.toFixed(0)),
      rssBudgetMB: MAX_RSS_MB,
      rssSamples: rec.rss.samples,
    };
    console.log(`soak ${JSON.stringify(summary)}`);
    assert.ok(roundsDone >= CONVERSATIONS, `every conversation completed at least one round (${roundsDone} rounds)`);
    assert.ok(peakMb <= MAX_RSS_MB, `recorder peak RSS ${peakMb.toFixed(0)} MB over the ${MAX_RSS_MB} MB budget`);
  } finally {
    await rec.kill();
    await emu.close();
    await tmp.cleanup();
  }
});
