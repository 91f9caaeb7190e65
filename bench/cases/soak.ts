// 7. Soak through the recorder: the reliability soak (test/reliability/soak.test.ts, which checks every
// conversation whole) at full size, once straight to the emulator (DLVCR_SOAK_BASELINE=1) and once through
// the recorder, interleaved per round. Each run prints one `soak …` / `soak-baseline …` JSON line; the
// targets compare rounds done and the round-latency p99, and take the recorder's peak RSS (sampled every 200 ms).
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { fmt, table, targetsTable, x } from '../lib/md.js';
import { median, round, rotation } from '../lib/stats.js';
import type { BenchCase, BenchResult } from '../lib/types.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CONVERSATIONS = Number(process.env.BENCH_SOAK_CONVERSATIONS ?? 500);
const SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 60);
/** A soak is long (≈ 75 s a run): one round of each unless BENCH_SOAK_ROUNDS says otherwise. */
const ROUNDS = Number(process.env.BENCH_SOAK_ROUNDS ?? 1);
const MAX_RSS_MB = 300;
const MODES = ['baseline', 'record'] as const;
type Mode = (typeof MODES)[number];

interface SoakLine {
  rounds: number;
  framesPerSecond: number;
  roundMs: { p50: number; p99: number; max: number };
  cpuSeconds: Record<string, number | string>;
  rssPeakMB?: number;
  cassetteEvents?: number;
}
interface Run extends SoakLine {
  round: number;
  mode: Mode;
}

/** Runs the soak test file once; resolves with its summary line, rejects (with the test's output) when it failed. */
function soakOnce(mode: Mode): Promise<SoakLine> {
  const env = {
    ...process.env,
    DLVCR_SOAK_CONVERSATIONS: String(CONVERSATIONS),
    DLVCR_SOAK_SECONDS: String(SECONDS),
    // The benchmark judges the peak against its own target; the test's budget must not stop the run first.
    DLVCR_SOAK_MAX_RSS_MB: '100000',
    // The recorder as installed (dist/, built by run() first): its RSS without tsx's compiler in both threads.
    DLVCR_RECORDER_BUILT: '1',
    ...(mode === 'baseline' ? { DLVCR_SOAK_BASELINE: '1' } : {}),
  };
  const args = ['--conditions=dlvcr-source', '--import', 'tsx', '--test', '--test-reporter=tap', 'test/reliability/soak.test.ts'];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.once('exit', (code) => {
      const tag = mode === 'baseline' ? 'soak-baseline' : 'soak';
      const line = new RegExp(`^#?\\s*${tag} (\\{.*\\})\\s*$`, 'm').exec(out);
      if (code !== 0 || !line) reject(new Error(`the ${mode} soak failed (exit ${code}):\n${out.slice(-3000)}`));
      else resolve(JSON.parse(line[1]!) as SoakLine);
    });
  });
}

export const soak: BenchCase = {
  name: 'soak',
  title: '7. Soak: 500 conversations × 60 s through the recorder',
  async run(ctx) {
    execFileSync(process.execPath, [`${ROOT}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'inherit' });
    const runs: Run[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      for (const mode of rotation(MODES, r)) {
        const line = await soakOnce(mode);
        runs.push({ round: r, mode, ...line });
        ctx.log(
          `  round ${r + 1} ${mode}: ${line.rounds} rounds, round p99 ${line.roundMs.p99} ms` +
            (line.rssPeakMB !== undefined ? `, peak RSS ${line.rssPeakMB} MB` : ''),
        );
      }
    }
    const of = (m: Mode) => runs.filter((run) => run.mode === m);
    const perRound = (f: (rec: Run, base: Run) => number) =>
      median(Array.from({ length: ROUNDS }, (_, r) => f(of('record')[r]!, of('baseline')[r]!)));
    const roundsRatio = round(
      perRound((rec, base) => rec.rounds / base.rounds),
      3,
    );
    const p99Ratio = round(
      perRound((rec, base) => rec.roundMs.p99 / base.roundMs.p99),
      3,
    );
    const peakMb = Math.max(...of('record').map((run) => run.rssPeakMB ?? 0));
    const summary = {
      baseline: { rounds: median(of('baseline').map((run) => run.rounds)), p99: median(of('baseline').map((run) => run.roundMs.p99)) },
      record: { rounds: median(of('record').map((run) => run.rounds)), p99: median(of('record').map((run) => run.roundMs.p99)) },
      roundsRatio,
      p99Ratio,
      peakMb,
    };
    return {
      config: {
        conversations: CONVERSATIONS,
        seconds: SECONDS,
        rounds: ROUNDS,
        command:
          `npm run build && DLVCR_RECORDER_BUILT=1 DLVCR_SOAK_CONVERSATIONS=${CONVERSATIONS} DLVCR_SOAK_SECONDS=${SECONDS} ` +
          '[DLVCR_SOAK_BASELINE=1] node --import tsx --test test/reliability/soak.test.ts',
      },
      rounds: runs,
      summary,
      targets: [
        {
          what: 'soak rounds done through the recorder vs straight to the emulator',
          target: '≥ 1/1.2 (0.83×)',
          measured: x(roundsRatio),
          met: roundsRatio >= 1 / 1.2,
        },
        {
          what: 'soak round latency p99 through the recorder vs straight to the emulator',
          target: '≤ 1.2×',
          measured: `${x(p99Ratio)} (${fmt(summary.record.p99)} vs ${fmt(summary.baseline.p99)} ms)`,
          met: p99Ratio <= 1.2,
        },
        {
          what: 'recorder peak RSS during the soak',
          target: `≤ ${MAX_RSS_MB} MB`,
          measured: `${fmt(peakMb)} MB`,
          met: peakMb <= MAX_RSS_MB,
        },
      ],
      notes: [],
    };
  },
  render(res: BenchResult) {
    const runs = res.rounds as Run[];
    const c = res.config as { conversations: number; seconds: number; command: string };
    const markdown = [
      `The reliability soak (\`test/reliability/soak.test.ts\`: ${c.conversations} conversations, each posting a message and ` +
        `waiting for its burst of 5 bot messages + typing over the stream, a think time of 0.5–1.5 s, for ${c.seconds} s; every ` +
        'conversation checked whole against the emulator and, through the recorder, against the cassette), run straight to ' +
        'the emulator and through the recorder (the CLI, a process of its own). Command of each run: ' +
        `\`${c.command}\`.`,
      '',
      table(
        ['round', 'path', 'rounds done', 'frames/s', 'round p50 ms', 'round p99 ms', 'max ms', 'recorder CPU s', 'peak RSS MB'],
        runs.map((run) => [
          run.round + 1,
          run.mode === 'baseline' ? 'straight to the emulator' : 'through the recorder',
          run.rounds,
          run.framesPerSecond,
          run.roundMs.p50,
          run.roundMs.p99,
          run.roundMs.max,
          run.mode === 'record' ? String(run.cpuSeconds.recorder) : '',
          run.rssPeakMB ?? '',
        ]),
      ),
      '',
      targetsTable(res.targets),
    ].join('\n');
    return { markdown, charts: [] };
  },
};
