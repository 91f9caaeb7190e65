// 4. Cassette scaling: the cost of writing 10k / 50k / 100k frames through CassetteWriter (events fed at
// a steady rate, as a busy recording would; every write the writer makes is timed) must grow linearly,
// i.e. the ms per 10k frames must stay flat; and the time and peak memory to load and validate a
// 100k-event cassette with loadCassette, next to a plain JSON.parse of the same file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChild } from '../lib/child.js';
import { fmt, table, targetsTable, x } from '../lib/md.js';
import { median, rotation, round } from '../lib/stats.js';
import { barChart } from '../lib/svg.js';
import type { BenchCase, BenchResult } from '../lib/types.js';

const SIZES = [10_000, 50_000, 100_000] as const;
interface WriteSummary {
  serialisationsPerEvent: number;
  cpuPer10k: number;
  syncCpuMs: number;
  msPer10k: number;
  wallPer10k: number;
  syncMs: number;
  totalMs: number;
  writes: number;
  maxSyncMs: number;
  closeMs: number;
  maxLoopDelayMs: number;
  mib: number;
}
const RATE = 40_000; // frames/s fed to the writer
const LOAD_MODES = ['JSON.parse', 'loadCassette'] as const;

interface WriteRun {
  round: number;
  n: number;
  feedSeconds: number;
  writes: number;
  serialisationsPerEvent: number;
  syncMs: number;
  syncCpuMs: number;
  cpuPer10k: number;
  totalMs: number;
  maxSyncMs: number;
  closeMs: number;
  maxLoopDelayMs: number;
  bytes: number;
  msPer10k: number;
  wallPer10k: number;
}
interface LoadRun {
  round: number;
  mode: (typeof LOAD_MODES)[number];
  events: number;
  ms: number;
  peakRssDelta: number;
}

export const cassetteScaling: BenchCase = {
  name: 'cassette-scaling',
  title: '4. Cassette scaling',
  async run(ctx) {
    const dir = mkdtempSync(join(tmpdir(), 'dlvcr-bench-cassette-'));
    const writes: WriteRun[] = [];
    const loads: LoadRun[] = [];
    const big = join(dir, 'big.json');
    try {
      for (let r = 0; r < ctx.rounds; r++) {
        for (const n of rotation(SIZES, r)) {
          const child = await startChild('servers/cassette-child.ts', {}, { gc: true, product: true });
          try {
            const file = n === 100_000 ? big : join(dir, `w-${n}.json`);
            const w = await child.call<Omit<WriteRun, 'round' | 'msPer10k' | 'wallPer10k' | 'cpuPer10k'>>(
              'write',
              { file, n, rate: RATE },
              120_000,
            );
            const run: WriteRun = {
              round: r,
              ...w,
              cpuPer10k: w.syncCpuMs / (n / 10_000),
              msPer10k: w.syncMs / (n / 10_000),
              wallPer10k: w.totalMs / (n / 10_000),
            };
            writes.push(run);
            ctx.log(
              `  round ${r + 1} write ${String(n).padStart(6)}: ${w.writes} writes (each frame serialised ` +
                `${fmt(w.serialisationsPerEvent, 2)}× on average), serialising ${fmt(w.syncCpuMs, 0)} ms CPU ` +
                `(${fmt(run.cpuPer10k, 1)} per 10k) / ${fmt(w.syncMs, 0)} ms wall, ${fmt(w.totalMs, 0)} ms until written ` +
                `(${fmt(run.wallPer10k, 1)} per 10k), longest blocking write ${fmt(w.maxSyncMs, 0)} ms, ` +
                `${fmt(w.bytes / 2 ** 20, 1)} MiB`,
            );
          } finally {
            await child.stop();
          }
          if (n !== 100_000) rmSync(join(dir, `w-${n}.json`), { force: true });
        }
      }
      for (let r = 0; r < ctx.rounds; r++) {
        for (const mode of rotation(LOAD_MODES, r)) {
          const child = await startChild('servers/cassette-child.ts', {}, { gc: true, product: true });
          try {
            const l = await child.call<Omit<LoadRun, 'round'>>('load', { file: big, mode }, 120_000);
            loads.push({ round: r, ...l });
            ctx.log(
              `  round ${r + 1} ${mode.padEnd(12)} ${l.events} events in ${fmt(l.ms, 0)} ms, peak RSS ` +
                `+${fmt(l.peakRssDelta / 2 ** 20, 0)} MiB`,
            );
          } finally {
            await child.stop();
          }
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const perSize = Object.fromEntries(
      SIZES.map((n) => {
        const runs = writes.filter((w) => w.n === n);
        const m = (k: keyof WriteRun) => round(median(runs.map((w) => w[k] as number)), 2);
        return [
          n,
          {
            serialisationsPerEvent: m('serialisationsPerEvent'),
            cpuPer10k: m('cpuPer10k'),
            syncCpuMs: m('syncCpuMs'),
            msPer10k: m('msPer10k'),
            wallPer10k: m('wallPer10k'),
            syncMs: m('syncMs'),
            totalMs: m('totalMs'),
            writes: m('writes'),
            maxSyncMs: m('maxSyncMs'),
            closeMs: m('closeMs'),
            maxLoopDelayMs: m('maxLoopDelayMs'),
            mib: round(m('bytes') / 2 ** 20, 1),
          },
        ];
      }),
    ) as Record<number, WriteSummary>;
    // Linearity from per-round ratios of CPU time (steadier than wall time on a shared machine).
    const growth = median(
      Array.from({ length: ctx.rounds }, (_, r) => {
        const at = (n: number) => writes.find((w) => w.round === r && w.n === n)!.cpuPer10k;
        return at(100_000) / at(10_000);
      }),
    );
    const growth50k = median(
      Array.from({ length: ctx.rounds }, (_, r) => {
        const at = (n: number) => writes.find((w) => w.round === r && w.n === n)!.cpuPer10k;
        return at(50_000) / at(10_000);
      }),
    );
    const load = Object.fromEntries(
      LOAD_MODES.map((mode) => {
        const runs = loads.filter((l) => l.mode === mode);
        return [
          mode,
          { ms: round(median(runs.map((l) => l.ms)), 0), peakMiB: round(median(runs.map((l) => l.peakRssDelta)) / 2 ** 20, 0) },
        ];
      }),
    ) as Record<(typeof LOAD_MODES)[number], { ms: number; peakMiB: number }>;
    const loadRatio = median(
      Array.from(
        { length: ctx.rounds },
        (_, r) =>
          loads.find((l) => l.round === r && l.mode === 'loadCassette')!.ms /
          loads.find((l) => l.round === r && l.mode === 'JSON.parse')!.ms,
      ),
    );
    const memRatio = load.loadCassette.peakMiB / load['JSON.parse'].peakMiB;
    return {
      config: {
        sizes: SIZES,
        feedRate: RATE,
        frameBytes: 1100,
        writer:
          "CassetteWriter.create(file, {upstream}) with the default flushIntervalMs (200); the writer's db.write is wrapped to " +
          'time each write',
        load: 'fresh child process (--expose-gc) per load; peak = VmHWM − VmRSS before the load',
      },
      rounds: [...writes.map((w) => ({ part: 'write', ...w })), ...loads.map((l) => ({ part: 'load', ...l }))],
      summary: {
        write: perSize,
        growth50kVs10k: round(growth50k, 2),
        growth100kVs10k: round(growth, 2),
        load,
        loadVsJsonParse: round(loadRatio, 2),
        loadPeakMemVsJsonParse: round(memRatio, 2),
      },
      targets: [
        {
          what: 'write cost linear: serialising CPU ms per 10k frames, at 100k ÷ at 10k',
          target: '≈ 1× (≤ 1.5×)',
          measured: `${x(growth)} (50k: ${x(growth50k)})`,
          met: growth <= 1.5,
        },
        {
          what: 'loading a 100k-event cassette (loadCassette: parse + validate) vs a bare JSON.parse of the file',
          target: '≤ 1.2×',
          measured: x(loadRatio),
          met: loadRatio <= 1.2,
        },
      ],
      notes: [],
    };
  },
  render(res: BenchResult) {
    const s = res.summary as {
      write: Record<string, WriteSummary>;
      load: Record<string, { ms: number; peakMiB: number }>;
      loadVsJsonParse: number;
      loadPeakMemVsJsonParse: number;
    };
    const markdown = [
      `Write: frames fed to CassetteWriter at ${(res.config.feedRate as number).toLocaleString('en-US')}/s. Every write the ` +
        'writer makes (its timer\'s and the last one, at close) is timed: "serialising" is its synchronous part (turning the new ' +
        'events into text, which blocks the event loop), "until written" runs until the new version of the file is in place (it ' +
        'also waits for the event loop, which the feed keeps busy). Medians of the rounds; the target uses the median of ' +
        'per-round ratios (100k ÷ 10k in the same round), the "vs 10k" column divides the medians. The writer writes ' +
        'incrementally (src/cassette/append-file.ts): each write serialises only the frames added since the previous one, so ' +
        'each frame is serialised once ("serialisations per frame" counts what the writer serialised, from its stats), and "per ' +
        '10k serialised" shows the cost of one serialisation.',
      '',
      table(
        [
          'frames',
          'cassette MiB',
          'writes',
          'serialisations per frame',
          'serialising CPU ms',
          'per 10k frames',
          'vs 10k',
          'per 10k serialised',
          'serialising wall ms',
          'until written ms',
          'per 10k',
          'longest blocking write ms',
          'longest event-loop stall ms',
        ],
        SIZES.map((n) => {
          const w = s.write[n];
          return [
            n.toLocaleString('en-US'),
            fmt(w.mib, 1),
            w.writes,
            fmt(w.serialisationsPerEvent, 2),
            fmt(w.syncCpuMs, 0),
            fmt(w.cpuPer10k, 1),
            x(w.cpuPer10k / s.write[10_000].cpuPer10k),
            fmt(w.syncCpuMs / ((w.serialisationsPerEvent * n) / 10_000), 1),
            fmt(w.syncMs, 0),
            fmt(w.totalMs, 0),
            fmt(w.wallPer10k, 1),
            fmt(w.maxSyncMs, 0),
            fmt(w.maxLoopDelayMs, 0),
          ];
        }),
      ),
      '',
      'Load a 100k-event cassette (the one written above), fresh process each time:',
      '',
      table(
        ['reader', 'time ms', 'vs JSON.parse', 'peak RSS growth MiB', 'vs JSON.parse'],
        [
          ['JSON.parse of the file (limit)', fmt(s.load['JSON.parse'].ms, 0), '1×', fmt(s.load['JSON.parse'].peakMiB, 0), '1×'],
          [
            'loadCassette (parse + zod validation)',
            fmt(s.load.loadCassette.ms, 0),
            x(s.loadVsJsonParse),
            fmt(s.load.loadCassette.peakMiB, 0),
            x(s.loadPeakMemVsJsonParse),
          ],
        ],
      ),
      '',
      targetsTable(res.targets),
      '',
      '![Cassette write cost](bench/results/cassette-scaling.svg)',
    ].join('\n');
    const growthOk = res.targets[0].met;
    const svg = barChart({
      title: 'CassetteWriter: serialising CPU ms per 10k frames (flat = linear)',
      unit: 'ms / 10k frames',
      bars: SIZES.map((n) => ({
        label: `${n.toLocaleString('en-US')} frames`,
        value: s.write[n].cpuPer10k,
        text: `${fmt(s.write[n].cpuPer10k, 1)} ms`,
        kind: n === 10_000 ? ('ref' as const) : growthOk ? ('ok' as const) : ('miss' as const),
      })),
    });
    return { markdown, charts: [{ file: 'cassette-scaling.svg', svg }] };
  },
};
