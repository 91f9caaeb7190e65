// 2. WebSocket record: an upstream ws server pushes ActivitySet frames of ~1 KB; the client receives them
// directly, through a plain ws relay, and through startRecorder. Throughput: 50,000 frames as fast as
// backpressure allows; every frame must be in the cassette (loaded with loadCassette and counted).
// Latency: frames at 2,000/s, each stamped at the upstream and timed at the client.
import { loadCassette } from '../../src/cassette/load.js';
import { startChild } from '../lib/child.js';
import { fmt, table, targetsTable, x } from '../lib/md.js';
import { runStream, streamUrl } from '../lib/stream-client.js';
import { median, ratio, rotation, round, summarize } from '../lib/stats.js';
import { barChart } from '../lib/svg.js';
import type { BenchCase, BenchResult } from '../lib/types.js';

const FRAMES = 50_000;
const FRAME_BYTES = 1100;
const RATE = 2000;
const RATE_SECONDS = 1.5;
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

interface ThroughputRun { mode: Mode; round: number; fps: number; seconds: number; inCassette?: number }
interface LatencyRun { mode: LatMode; round: number; frames: number; p50: number; p99: number; max: number; mean: number; inCassette?: number }

export const wsRecord: BenchCase = {
  name: 'ws-record',
  title: '2. WebSocket record',
  async run(ctx) {
    const upstream = await startChild<{ url: string }>('servers/ws-upstream.ts');
    const relay = await startChild<{ url: string }>('servers/ws-relay.ts', { upstream: upstream.info.url });
    const recorder = await startChild<{ url: string }>('servers/recorder.ts', { upstream: upstream.info.url.replace(/^ws/, 'http') + '/v3/directline' }, { product: true });
    const tput: ThroughputRun[] = [];
    const lat: LatencyRun[] = [];
    let conv = 0;
    const countInCassette = async (file: string, conversations: string[]) => {
      const c = await loadCassette(file);
      return conversations.map((id) => c.events.filter((e) => e.type === 'ws.message' && e.from === 'server' && e.conversationId === id).length);
    };
    try {
      let recUrl = (await recorder.call<{ url: string }>('start')).url;
      const baseOf = (mode: Mode) => (mode === 'direct' ? upstream.info.url : mode === 'relay' ? relay.info.url : recUrl);
      // Warm-up (JIT), not measured.
      for (const mode of MODES) await runStream(streamUrl(baseOf(mode), `warm-${mode}`, { n: 2000, size: FRAME_BYTES, rate: 0 }), 2000);
      for (let r = 0; r < ctx.rounds; r++) {
        recUrl = (await recorder.call<{ url: string }>('start')).url;
        let burstConv = '';
        for (const mode of rotation(MODES, r)) {
          const id = `bench-ws-${++conv}`;
          if (mode === 'record') burstConv = id;
          const run = await runStream(streamUrl(baseOf(mode), id, { n: FRAMES, size: FRAME_BYTES, rate: 0 }), FRAMES, { timeoutMs: 60_000 });
          tput.push({ mode, round: r, fps: run.fps, seconds: run.seconds });
          ctx.log(`  round ${r + 1} ${mode.padEnd(6)} ${fmt(run.fps, 0).padStart(7)} frames/s (${fmt(run.seconds)} s)`);
        }
        // Latency at 2,000 frames/s: the same recorder (now holding the 50k frames above) first, then a fresh one.
        const rate = { n: Math.round(RATE * RATE_SECONDS), size: FRAME_BYTES, rate: RATE };
        const latConv: Partial<Record<LatMode, string>> = {};
        for (const mode of rotation(['direct', 'relay', 'record-50k'] as const, r)) {
          const id = `bench-lat-${++conv}`;
          latConv[mode] = id;
          const run = await runStream(streamUrl(baseOf(mode === 'record-50k' ? 'record' : mode), id, rate), rate.n);
          const s = summarize(run.latencies);
          lat.push({ mode, round: r, frames: run.received, p50: s.p50, p99: s.p99, max: s.max, mean: s.mean });
          ctx.log(`  round ${r + 1} ${mode.padEnd(10)} latency p50 ${fmt(s.p50)} ms  p99 ${fmt(s.p99)} ms  max ${fmt(s.max)} ms`);
        }
        const closed1 = await recorder.call<{ cassette: string }>('close');
        const [nBurst, nLat50k] = await countInCassette(closed1.cassette, [burstConv, latConv['record-50k']!]);
        tput.find((t) => t.round === r && t.mode === 'record')!.inCassette = nBurst;
        lat.find((t) => t.round === r && t.mode === 'record-50k')!.inCassette = nLat50k;
        recUrl = (await recorder.call<{ url: string }>('start')).url;
        const id = `bench-lat-${++conv}`;
        const run = await runStream(streamUrl(recUrl, id, rate), rate.n);
        const s = summarize(run.latencies);
        const closed2 = await recorder.call<{ cassette: string }>('close');
        const [nLat] = await countInCassette(closed2.cassette, [id]);
        lat.push({ mode: 'record', round: r, frames: run.received, p50: s.p50, p99: s.p99, max: s.max, mean: s.mean, inCassette: nLat });
        ctx.log(`  round ${r + 1} ${'record'.padEnd(10)} latency p50 ${fmt(s.p50)} ms  p99 ${fmt(s.p99)} ms  max ${fmt(s.max)} ms`);
        ctx.log(`  round ${r + 1} cassette: ${nBurst}/${FRAMES} burst frames, ${nLat50k}/${rate.n} and ${nLat}/${rate.n} paced frames`);
      }
    } finally {
      await Promise.all([recorder.stop(), relay.stop(), upstream.stop()]);
    }
    const perRound = (f: (r: number) => number) => median(Array.from({ length: ctx.rounds }, (_, r) => f(r)));
    const fpsOf = (r: number, m: Mode) => tput.find((t) => t.round === r && t.mode === m)!.fps;
    const latOf = (r: number, m: LatMode) => lat.find((t) => t.round === r && t.mode === m)!;
    const fpsRatio = perRound((r) => ratio(fpsOf(r, 'record'), fpsOf(r, 'relay')));
    const added = perRound((r) => latOf(r, 'record').p99 - latOf(r, 'direct').p99);
    const added50k = perRound((r) => latOf(r, 'record-50k').p99 - latOf(r, 'direct').p99);
    const addedRelay = perRound((r) => latOf(r, 'relay').p99 - latOf(r, 'direct').p99);
    const missing = tput.filter((t) => t.mode === 'record' && t.inCassette !== FRAMES).length + lat.filter((t) => t.inCassette !== undefined && t.inCassette !== t.frames).length;
    const throughput = Object.fromEntries(MODES.map((m) => [m, { fps: round(median(tput.filter((t) => t.mode === m).map((t) => t.fps)), 0) }]));
    const latency = Object.fromEntries(LAT_MODES.map((m) => {
      const runs = lat.filter((t) => t.mode === m);
      return [m, { p50: round(median(runs.map((t) => t.p50)), 3), p99: round(median(runs.map((t) => t.p99)), 3), max: round(median(runs.map((t) => t.max)), 3) }];
    }));
    return {
      config: { frames: FRAMES, frameBytes: FRAME_BYTES, pacedRate: RATE, pacedSeconds: RATE_SECONDS, client: 'ws client in the runner process, default options (offers permessage-deflate, as browsers do)', upstream: 'ws server in a child process, no permessage-deflate (like the test emulator)', relay: 'bench/servers/ws-relay.ts in a child process', recorder: 'startRecorder in a child process, default flushIntervalMs' },
      rounds: [...tput.map((t) => ({ part: 'throughput', ...t })), ...lat.map((t) => ({ part: 'latency', ...t }))],
      summary: { throughput, latency, ratios: { recordVsRelayFps: round(fpsRatio, 3), addedP99Ms: round(added, 3), addedP99MsAfter50k: round(added50k, 3), relayAddedP99Ms: round(addedRelay, 3) } },
      targets: [
        { what: 'record frames/s vs plain relay (50k × 1.1 KB burst)', target: '≥ 0.9×', measured: x(fpsRatio), met: fpsRatio >= 0.9 },
        { what: 'every frame in the cassette (loadCassette, counted)', target: 'all, every run', measured: missing ? `${missing} run(s) short` : `${FRAMES.toLocaleString('en-US')} of ${FRAMES.toLocaleString('en-US')} in each burst run; every paced frame too`, met: missing === 0 },
        { what: 'added latency p99 at 2,000 frames/s, fresh cassette', target: '≤ 5 ms', measured: `${fmt(added)} ms`, met: added <= 5 },
        { what: 'added latency p99 at 2,000 frames/s, cassette holding 50k frames', target: '≤ 5 ms', measured: `${fmt(added50k)} ms`, met: added50k <= 5 },
      ],
      notes: [],
    };
  },
  render(res: BenchResult) {
    const s = res.summary as { throughput: Record<Mode, { fps: number }>; latency: Record<LatMode, { p50: number; p99: number; max: number }>; ratios: Record<string, number> };
    const t = table(['path', 'frames/s (median)', 'vs relay'], MODES.map((m) => [LABEL[m], fmt(s.throughput[m].fps, 0), x(s.throughput[m].fps / s.throughput.relay.fps)]));
    const l = table(['path', 'p50 ms', 'p99 ms', 'max ms', 'p99 added vs direct'], LAT_MODES.map((m) => [LABEL[m], fmt(s.latency[m].p50), fmt(s.latency[m].p99), fmt(s.latency[m].max), m === 'direct' ? '' : `${fmt(s.latency[m].p99 - s.latency.direct.p99)} ms`]));
    const runs = res.rounds as Array<{ part: string; mode: string; round: number; fps?: number; p50?: number; p99?: number; max?: number; inCassette?: number }>;
    const markdown = [
      `Throughput: ${(res.config.frames as number).toLocaleString('en-US')} frames of ${res.config.frameBytes as number} B, as fast as backpressure allows.`,
      '',
      t,
      '',
      `Latency: ${res.config.pacedRate as number} frames/s for ${res.config.pacedSeconds as number} s, stamped at the upstream, timed at the client (medians of the rounds; "added" is the median over rounds of mode p99 − direct p99 in the same round).`,
      '',
      l,
      '',
      targetsTable(res.targets),
      '',
      '<details><summary>Every run</summary>',
      '',
      table(['round', 'part', 'mode', 'frames/s', 'p50 ms', 'p99 ms', 'max ms', 'frames in cassette'], runs.map((r) => [r.round + 1, r.part, r.mode, r.fps ? fmt(r.fps, 0) : '', r.p50 !== undefined ? fmt(r.p50) : '', r.p99 !== undefined ? fmt(r.p99) : '', r.max !== undefined ? fmt(r.max) : '', r.inCassette ?? ''])),
      '',
      '</details>',
      '',
      '![WebSocket throughput](bench/results/ws-record.svg)',
    ].join('\n');
    const svg = barChart({
      title: `Stream relay, ${(res.config.frames as number).toLocaleString('en-US')} × ${res.config.frameBytes as number} B frames (median frames/s)`,
      unit: 'frames/s',
      bars: MODES.map((m) => ({ label: m === 'relay' ? 'plain relay' : m, value: s.throughput[m].fps, text: `${fmt(s.throughput[m].fps, 0)} frames/s`, kind: m === 'record' ? (res.targets[0].met ? 'ok' : 'miss') : 'ref' })),
      target: { value: 0.9 * s.throughput.relay.fps, label: '0.9× relay' },
    });
    return { markdown, charts: [{ file: 'ws-record.svg', svg }] };
  },
};
