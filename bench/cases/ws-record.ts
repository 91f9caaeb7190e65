// 2. WebSocket record. An upstream ws server pushes ActivitySet frames of ~1 KB; the client receives them
// directly, through a plain ws relay (the limit), and through startRecorder.
//  (a) throughput: 50,000 frames as fast as backpressure allows; every frame must be in the cassette
//      (loaded with loadCassette and counted);
//  (b) latency: frames at 2,000/s, each stamped at the upstream and timed at the client; the recorder both
//      on a fresh cassette and on one already holding 50k frames (a long recording session).
import { loadCassette } from '../../src/cassette/load.js';
import { startChild, type Child } from '../lib/child.js';
import { fmt, table, targetsTable, x } from '../lib/md.js';
import { runStream, streamUrl } from '../lib/stream-client.js';
import { median, ratio, rotation, round, summarize } from '../lib/stats.js';
import { barChart } from '../lib/svg.js';
import type { BenchCase, BenchResult } from '../lib/types.js';

const FRAMES = 50_000;
const FRAME_BYTES = 1100;
const RATE = 2000;
const RATE_SECONDS = 2;
const MODES = ['direct', 'relay', 'record'] as const;
type Mode = (typeof MODES)[number];
const LAT_MODES = ['direct', 'relay', 'record', 'record-50k'] as const;
type LatMode = (typeof LAT_MODES)[number];
const LABEL: Record<LatMode, string> = {
  direct: 'direct to upstream',
  relay: 'plain ws relay (limit)',
  record: 'startRecorder (record), fresh cassette',
  'record-50k': 'startRecorder, cassette already holding 50k frames',
};
const CONFIG = {
  frameBytes: FRAME_BYTES,
  client: 'ws client in the runner process, default options (offers permessage-deflate, as browsers do)',
  upstream: 'ws server in a child process without permessage-deflate (like the test emulator)',
  relay: 'bench/servers/ws-relay.ts in a child process (opens the upstream first, 1 MiB backpressure, like the recorder)',
  recorder: 'startRecorder in a child process, default flushIntervalMs (200)',
};

interface ThroughputRun {
  mode: Mode;
  round: number;
  fps: number;
  seconds: number;
  cpuUs: number;
  /** CPU time of the relaying process's main thread alone, µs per frame. */
  threadCpuUs?: number;
  inCassette?: number;
}
interface LatencyRun {
  mode: LatMode;
  group: 'record' | 'record-50k';
  round: number;
  frames: number;
  p50: number;
  p99: number;
  max: number;
  inCassette?: number;
}

async function framesInCassette(file: string, conversations: string[]): Promise<number[]> {
  const c = await loadCassette(file);
  return conversations.map(
    (id) => c.events.filter((e) => e.type === 'ws.message' && e.from === 'server' && e.conversationId === id).length,
  );
}

async function streamParts(): Promise<{
  upstream: Child<{ url: string }>;
  relay: Child<{ url: string }>;
  recorder: () => Promise<Child<{ url: string }>>;
}> {
  const upstream = await startChild<{ url: string }>('servers/ws-upstream.ts');
  const relay = await startChild<{ url: string }>('servers/ws-relay.ts', { upstream: upstream.info.url });
  const recorder = () =>
    startChild<{ url: string }>(
      'servers/recorder.ts',
      { upstream: upstream.info.url.replace(/^ws/, 'http') + '/v3/directline' },
      { product: true },
    );
  return { upstream, relay, recorder };
}

let conversation = 0;
const nextId = (prefix: string) => `${prefix}-${++conversation}`;

export const wsThroughput: BenchCase = {
  name: 'ws-throughput',
  title: '2a. WebSocket record: throughput',
  async run(ctx) {
    const { upstream, relay, recorder: startRecorderChild } = await streamParts();
    const recorder = await startRecorderChild();
    const runs: ThroughputRun[] = [];
    try {
      let recUrl = recorder.info.url;
      const baseOf = (mode: Mode) => (mode === 'direct' ? upstream.info.url : mode === 'relay' ? relay.info.url : recUrl);
      // JIT warm-up
      for (const mode of MODES) await runStream(streamUrl(baseOf(mode), nextId('warm'), { n: 2000, size: FRAME_BYTES, rate: 0 }), 2000);
      for (let r = 0; r < ctx.rounds; r++) {
        recUrl = (await recorder.call<{ url: string }>('start')).url; // a fresh cassette every round
        let recorded = '';
        for (const mode of rotation(MODES, r)) {
          const id = nextId('burst');
          if (mode === 'record') recorded = id;
          const proc = mode === 'direct' ? upstream : mode === 'relay' ? relay : recorder;
          const c0 = await proc.cpu();
          const run = await runStream(streamUrl(baseOf(mode), id, { n: FRAMES, size: FRAME_BYTES, rate: 0 }), FRAMES, {
            timeoutMs: 60_000,
          });
          // The burst's capture is done when its events are on disk: the CPU it costs the worker counts in full.
          if (mode === 'record') await recorder.call('flush', undefined, 120_000);
          const c1 = await proc.cpu();
          const cpuUs = (c1.user - c0.user + c1.system - c0.system) / FRAMES;
          const threadCpuUs = c0.thread !== null && c1.thread !== null ? (c1.thread - c0.thread) / FRAMES : undefined;
          runs.push({ mode, round: r, fps: run.fps, seconds: run.seconds, cpuUs, ...(threadCpuUs !== undefined ? { threadCpuUs } : {}) });
          const main = threadCpuUs !== undefined ? ` (${fmt(threadCpuUs, 1)} main thread)` : '';
          ctx.log(
            `  round ${r + 1} ${mode.padEnd(6)} ${fmt(run.fps, 0).padStart(7)} frames/s (${fmt(run.seconds)} s)  ` +
              `${fmt(cpuUs, 1)} µs CPU/frame${main}`,
          );
        }
        const { cassette } = await recorder.call<{ cassette: string }>('close');
        const [n] = await framesInCassette(cassette, [recorded]);
        runs.find((t) => t.round === r && t.mode === 'record')!.inCassette = n;
        ctx.log(`  round ${r + 1} cassette: ${n} of ${FRAMES} frames`);
      }
    } finally {
      await Promise.all([recorder.stop(), relay.stop(), upstream.stop()]);
    }
    const fpsOf = (r: number, m: Mode) => runs.find((t) => t.round === r && t.mode === m)!.fps;
    const fpsRatio = median(Array.from({ length: ctx.rounds }, (_, r) => ratio(fpsOf(r, 'record'), fpsOf(r, 'relay'))));
    const short = runs.filter((t) => t.mode === 'record' && t.inCassette !== FRAMES).length;
    const perMode = Object.fromEntries(
      MODES.map((m) => [
        m,
        {
          fps: round(median(runs.filter((t) => t.mode === m).map((t) => t.fps)), 0),
          cpuUs: round(median(runs.filter((t) => t.mode === m).map((t) => t.cpuUs)), 1),
          threadCpuUs: round(median(runs.filter((t) => t.mode === m).map((t) => t.threadCpuUs ?? Number.NaN)), 1),
        },
      ]),
    );
    return {
      config: { frames: FRAMES, ...CONFIG },
      rounds: runs,
      summary: { ...perMode, recordVsRelay: round(fpsRatio, 3) },
      targets: [
        {
          what: `record frames/s vs plain relay (${FRAMES / 1000}k × ${FRAME_BYTES} B burst)`,
          target: '≥ 0.8×',
          measured: x(fpsRatio),
          met: fpsRatio >= 0.8,
        },
        {
          what: 'every frame in the cassette (loadCassette, counted)',
          target: 'all, every run',
          measured: short ? `${short} run(s) short` : `${FRAMES.toLocaleString('en-US')} of ${FRAMES.toLocaleString('en-US')}, every run`,
          met: short === 0,
        },
      ],
      notes: [],
    };
  },
  render(res: BenchResult) {
    const s = res.summary as Record<Mode, { fps: number; cpuUs: number; threadCpuUs?: number | null }> & { recordVsRelay: number };
    const thread = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? fmt(v, 1) : '');
    const runs = res.rounds as ThroughputRun[];
    const markdown = [
      `${(res.config.frames as number).toLocaleString('en-US')} frames of ${res.config.frameBytes as number} B pushed as fast ` +
        'as backpressure allows; frames/s from the client\'s "go" to the last frame. The ratio is the median of per-round ratios. ' +
        "CPU per frame: user + system time of the relaying process (for direct: the upstream's), including its threads (zlib; " +
        'the recorder\'s capture worker). "Main thread": its event loop alone (from /proc, 10 ms ticks).',
      '',
      table(
        ['path', 'frames/s (median)', 'vs relay', 'CPU µs/frame', 'main thread µs/frame'],
        MODES.map((m) => [
          LABEL[m],
          fmt(s[m].fps, 0),
          m === 'record' ? x(s.recordVsRelay) : x(s[m].fps / s.relay.fps),
          `${fmt(s[m].cpuUs, 1)}${m === 'direct' ? ' (upstream)' : ''}`,
          thread(s[m].threadCpuUs),
        ]),
      ),
      '',
      targetsTable(res.targets),
      '',
      '<details><summary>Every run</summary>',
      '',
      table(
        ['round', 'mode', 'frames/s', 'seconds', 'CPU µs/frame', 'main thread', 'frames in cassette'],
        runs.map((r) => [r.round + 1, r.mode, fmt(r.fps, 0), fmt(r.seconds), fmt(r.cpuUs, 1), thread(r.threadCpuUs), r.inCassette ?? '']),
      ),
      '',
      '</details>',
      '',
      '![WebSocket throughput](bench/results/ws-throughput.svg)',
    ].join('\n');
    const svg = barChart({
      title:
        `Stream relay, ${(res.config.frames as number).toLocaleString('en-US')} × ${res.config.frameBytes as number} B frames ` +
        '(median frames/s)',
      unit: 'frames/s',
      bars: MODES.map((m) => ({
        label: m === 'relay' ? 'plain relay' : m,
        value: s[m].fps,
        text: `${fmt(s[m].fps, 0)} frames/s`,
        kind: m === 'record' ? (res.targets[0].met ? 'ok' : 'miss') : 'ref',
      })),
      target: { value: 0.8 * s.relay.fps, label: '0.8× relay' },
    });
    return { markdown, charts: [{ file: 'ws-throughput.svg', svg }] };
  },
};

export const wsLatency: BenchCase = {
  name: 'ws-latency',
  title: '2b. WebSocket record: added latency',
  async run(ctx) {
    const { upstream, relay, recorder: startRecorderChild } = await streamParts();
    const fresh = await startRecorderChild();
    const long = await startRecorderChild();
    const runs: LatencyRun[] = [];
    const paced = { n: Math.round(RATE * RATE_SECONDS), size: FRAME_BYTES, rate: RATE };
    const longIds: string[] = [];
    try {
      // The long session: 50k frames recorded before any measurement (and kept for every round).
      const pre = await runStream(streamUrl(long.info.url, nextId('preload'), { n: FRAMES, size: FRAME_BYTES, rate: 0 }), FRAMES, {
        timeoutMs: 60_000,
      });
      ctx.log(`  preloaded the long-session recorder with ${FRAMES} frames in ${fmt(pre.seconds)} s`);
      let freshUrl = fresh.info.url;
      const baseOf = (mode: LatMode) =>
        mode === 'direct' ? upstream.info.url : mode === 'relay' ? relay.info.url : mode === 'record' ? freshUrl : long.info.url;
      for (const mode of ['direct', 'relay', 'record'] as const)
        await runStream(streamUrl(baseOf(mode), nextId('warm'), { ...paced, n: 500 }), 500); // JIT warm-up
      for (let r = 0; r < ctx.rounds; r++) {
        freshUrl = (await fresh.call<{ url: string }>('start')).url;
        // Two groups, each streaming at the same time (so that a hiccup of this shared machine hits every path
        // of the group alike): direct, relay and one recorder; "added" compares paths of the same group.
        const ids = Object.fromEntries(LAT_MODES.map((m) => [m, nextId(`paced-${m}`)])) as Record<LatMode, string>;
        longIds.push(ids['record-50k']);
        for (const recMode of rotation(['record', 'record-50k'] as const, r)) {
          const group: LatMode[] = ['direct', 'relay', recMode];
          const results = await Promise.all(
            group.map((mode) => runStream(streamUrl(baseOf(mode), mode === recMode ? ids[mode] : nextId(`paced-${mode}`), paced), paced.n)),
          );
          group.forEach((mode, k) => {
            const s = summarize(results[k].latencies);
            runs.push({ mode, group: recMode, round: r, frames: results[k].received, p50: s.p50, p99: s.p99, max: s.max });
            ctx.log(
              `  round ${r + 1} [${recMode}] ${mode.padEnd(10)} latency p50 ${fmt(s.p50)} ms  p99 ${fmt(s.p99)} ms  max ${fmt(s.max)} ms`,
            );
          });
        }
        const { cassette } = await fresh.call<{ cassette: string }>('close');
        runs.find((t) => t.round === r && t.mode === 'record' && t.group === 'record')!.inCassette = (
          await framesInCassette(cassette, [ids.record])
        )[0];
      }
      const { cassette } = await long.call<{ cassette: string }>('close');
      const counts = await framesInCassette(cassette, longIds);
      counts.forEach((n, r) => {
        runs.find((t) => t.round === r && t.mode === 'record-50k' && t.group === 'record-50k')!.inCassette = n;
      });
    } finally {
      await Promise.all([fresh.stop(), long.stop(), relay.stop(), upstream.stop()]);
    }
    const latOf = (r: number, g: 'record' | 'record-50k', m: LatMode) => runs.find((t) => t.round === r && t.group === g && t.mode === m)!;
    const perRound = (f: (r: number) => number) => median(Array.from({ length: ctx.rounds }, (_, r) => f(r)));
    const added = perRound((r) => latOf(r, 'record', 'record').p99 - latOf(r, 'record', 'direct').p99);
    const added50k = perRound((r) => latOf(r, 'record-50k', 'record-50k').p99 - latOf(r, 'record-50k', 'direct').p99);
    const addedRelay = median(
      Array.from({ length: ctx.rounds }, (_, r) =>
        (['record', 'record-50k'] as const).map((g) => latOf(r, g, 'relay').p99 - latOf(r, g, 'direct').p99),
      ).flat(),
    );
    const short = runs.filter((t) => t.inCassette !== undefined && t.inCassette !== t.frames).length;
    const perMode = Object.fromEntries(
      LAT_MODES.map((m) => {
        const rs = runs.filter((t) => t.mode === m);
        return [
          m,
          {
            p50: round(median(rs.map((t) => t.p50)), 3),
            p99: round(median(rs.map((t) => t.p99)), 3),
            max: round(median(rs.map((t) => t.max)), 3),
          },
        ];
      }),
    );
    return {
      config: { pacedRate: RATE, pacedSeconds: RATE_SECONDS, preloadFrames: FRAMES, ...CONFIG },
      rounds: runs,
      summary: { ...perMode, added: { record: round(added, 3), 'record-50k': round(added50k, 3), relay: round(addedRelay, 3) } },
      targets: [
        {
          what: 'added latency p99 at 2,000 frames/s, fresh cassette',
          target: '≤ 2 ms',
          measured: `${fmt(added)} ms (plain relay: ${fmt(addedRelay)} ms)`,
          met: added <= 2,
          ...(added > 2 && addedRelay > 2 && added <= 2 * addedRelay
            ? { note: 'the plain relay missed it too in this run: too noisy to judge' }
            : {}),
        },
        {
          what: 'added latency p99 at 2,000 frames/s, cassette holding 50k frames',
          target: '≤ 2 ms',
          measured: `${fmt(added50k)} ms`,
          met: added50k <= 2,
        },
        { what: 'every paced frame in the cassette', target: 'all', measured: short ? `${short} run(s) short` : 'all', met: short === 0 },
      ],
      notes: [],
    };
  },
  render(res: BenchResult) {
    const s = res.summary as Record<LatMode, { p50: number; p99: number; max: number }> & { added: Record<string, number> };
    const runs = res.rounds as LatencyRun[];
    const markdown = [
      `${res.config.pacedRate as number} frames/s of ${res.config.frameBytes as number} B for ` +
        `${res.config.pacedSeconds as number} s per stream, each frame stamped at the upstream and timed at the client. Each ` +
        'round has two groups that stream at the same time — direct + relay + fresh recorder, then direct + relay + the recorder ' +
        'already holding 50k frames — so that a hiccup of the shared machine hits every path of a group alike. "Added" = median ' +
        'over rounds of (path p99 − direct p99 of the same group); the table shows medians over rounds (and groups).',
      '',
      table(
        ['path', 'p50 ms', 'p99 ms', 'max ms', 'p99 added vs direct'],
        LAT_MODES.map((m) => [LABEL[m], fmt(s[m].p50), fmt(s[m].p99), fmt(s[m].max), m === 'direct' ? '' : `${fmt(s.added[m])} ms`]),
      ),
      '',
      targetsTable(res.targets),
      '',
      '<details><summary>Every run</summary>',
      '',
      table(
        ['round', 'group', 'mode', 'p50 ms', 'p99 ms', 'max ms', 'frames in cassette'],
        runs.map((r) => [r.round + 1, r.group, r.mode, fmt(r.p50), fmt(r.p99), fmt(r.max), r.inCassette ?? '']),
      ),
      '',
      '</details>',
      '',
      '![WebSocket latency](bench/results/ws-latency.svg)',
    ].join('\n');
    const svg = barChart({
      title: `Stream latency at ${res.config.pacedRate as number} frames/s: p99 (ms)`,
      unit: 'ms',
      bars: LAT_MODES.map((m) => ({
        label: m === 'record-50k' ? 'record, 50k in cassette' : m === 'relay' ? 'plain relay' : m,
        value: s[m].p99,
        text: `${fmt(s[m].p99)} ms`,
        kind: m.startsWith('record') ? (s.added[m] <= 2 ? ('ok' as const) : ('miss' as const)) : ('ref' as const),
      })),
      target: { value: s.direct.p99 + 2, label: 'direct p99 + 2 ms' },
    });
    return { markdown, charts: [{ file: 'ws-latency.svg', svg }] };
  },
};

// (c) memory: peak RSS (VmHWM) of a fresh recorder process after recording one long stream, next to a fresh
// plain relay process relaying the same stream. 1,000,000 frames are smaller (300 B) so that the cassette stays
// under the loader's 512 MiB limit and the run under a few minutes.
const MEMORY_SIZES = [
  { frames: 50_000, bytes: FRAME_BYTES, target: 150 },
  { frames: 1_000_000, bytes: 300, target: 300 },
] as const;

interface MemoryRun {
  frames: number;
  bytes: number;
  mode: 'relay' | 'record';
  peakMb: number;
  fps: number;
  events?: number;
}

async function peakRssMb(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmHWM:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? 0) / 1024;
}

export const wsMemory: BenchCase = {
  name: 'ws-memory',
  title: '2c. WebSocket record: peak memory of a long recording',
  async run(ctx) {
    const upstream = await startChild<{ url: string }>('servers/ws-upstream.ts');
    const runs: MemoryRun[] = [];
    try {
      for (const size of MEMORY_SIZES) {
        for (const mode of ['relay', 'record'] as const) {
          const proc =
            mode === 'relay'
              ? await startChild<{ url: string }>('servers/ws-relay.ts', { upstream: upstream.info.url })
              : await startChild<{ url: string }>(
                  'servers/recorder.ts',
                  { upstream: upstream.info.url.replace(/^ws/, 'http') + '/v3/directline' },
                  { product: true },
                );
          try {
            const id = nextId(`memory-${mode}`);
            const run = await runStream(streamUrl(proc.info.url, id, { n: size.frames, size: size.bytes, rate: 0 }), size.frames, {
              timeoutMs: 600_000,
            });
            const peakMb = await peakRssMb(proc.pid);
            const events = mode === 'record' ? (await proc.call<{ events: number }>('close', undefined, 300_000)).events : undefined;
            runs.push({ frames: size.frames, bytes: size.bytes, mode, peakMb, fps: run.fps, events });
            ctx.log(
              `  ${size.frames.toLocaleString('en-US')} × ${size.bytes} B ${mode.padEnd(6)} peak RSS ${fmt(peakMb, 0)} MB ` +
                `(${fmt(run.fps, 0)} frames/s)${events !== undefined ? `, ${events} events recorded` : ''}`,
            );
          } finally {
            await proc.stop();
          }
        }
      }
    } finally {
      await upstream.stop();
    }
    const of = (frames: number, mode: MemoryRun['mode']) => runs.find((r) => r.frames === frames && r.mode === mode)!;
    return {
      config: {
        sizes: MEMORY_SIZES,
        ...CONFIG,
        measure: 'VmHWM of a fresh process per path and size, read when the last frame reached the client',
      },
      rounds: runs,
      summary: Object.fromEntries(
        MEMORY_SIZES.map((s) => [
          s.frames,
          { record: round(of(s.frames, 'record').peakMb, 0), relay: round(of(s.frames, 'relay').peakMb, 0) },
        ]),
      ),
      targets: MEMORY_SIZES.map((s) => {
        const rec = of(s.frames, 'record');
        // ws.open + one ws.message per frame (+ the client's "go") + ws.close
        const complete = (rec.events ?? 0) >= s.frames + 2;
        return {
          what:
            `peak RSS recording ${s.frames.toLocaleString('en-US')} frames of ${s.bytes} B (plain relay: ` +
            `${fmt(of(s.frames, 'relay').peakMb, 0)} MB)`,
          target: `≤ ${s.target} MB, every frame recorded`,
          measured: `${fmt(rec.peakMb, 0)} MB, ${rec.events} events`,
          met: rec.peakMb <= s.target && complete,
        };
      }),
      notes: [],
    };
  },
  render(res: BenchResult) {
    const runs = res.rounds as MemoryRun[];
    const markdown = [
      'Peak resident memory (VmHWM) of a fresh process that relays one long stream as fast as backpressure allows: a plain ws ' +
        'relay, and startRecorder writing every frame to its cassette. Events already on disk are not kept in memory, so the ' +
        "recorder's peak does not grow with the cassette.",
      '',
      table(
        ['frames', 'frame size', 'path', 'peak RSS MB', 'frames/s', 'events recorded'],
        runs.map((r) => [
          r.frames.toLocaleString('en-US'),
          `${r.bytes} B`,
          r.mode === 'relay' ? 'plain ws relay' : 'startRecorder',
          fmt(r.peakMb, 0),
          fmt(r.fps, 0),
          r.events ?? '',
        ]),
      ),
      '',
      targetsTable(res.targets),
    ].join('\n');
    return { markdown, charts: [] };
  },
};
