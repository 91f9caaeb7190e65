// 8. Load against replay, at full size: the load runner (src/load/runner.ts, what examples/load/run.ts runs)
// and Artillery with the shipped scenario (examples/load/directline.yml, pinned in examples/load/artillery/),
// each against one replay process of the demo cassette (speed instant). Every conversation is checked whole
// by the client; the figures are conversations/s and the latency of a turn (user message → its last reply).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { runLoad } from '../../src/load/runner.js';
import { startChild } from '../lib/child.js';
import { fmt, table, targetsTable } from '../lib/md.js';
import type { BenchCase, BenchResult } from '../lib/types.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DEMO = `${ROOT}recordings/demo.json`;
const CONVERSATIONS = 2000;
const CONCURRENCY = 200;
/** Artillery: new virtual users per second, for this many seconds. */
const ARRIVAL_RATE = 50;
const ARRIVAL_SECONDS = 20;
const ARTILLERY = `${ROOT}examples/load/artillery/node_modules/.bin/artillery`;

interface Row {
  client: string;
  conversations: number;
  whole: number;
  seconds: number;
  perSecond: number;
  turnP50: number;
  turnP99: number;
  cpuUs: number;
}

async function replayer() {
  const child = await startChild<{ domain: string }>('servers/replayer.ts', { cassette: DEMO, speed: 0 }, { product: true });
  const { domain } = await child.call<{ domain: string }>('start');
  return { child, domain };
}

async function cpuOf(child: Awaited<ReturnType<typeof replayer>>['child']): Promise<number> {
  const c = await child.cpu();
  return c.user + c.system;
}

async function withRunner(): Promise<Row> {
  const { child, domain } = await replayer();
  try {
    const cpu0 = await cpuOf(child);
    const r = await runLoad({
      domain,
      cassette: DEMO,
      conversations: CONVERSATIONS,
      concurrency: CONCURRENCY,
      mode: 'mixed',
      deadlineMs: 300_000,
    });
    const cpu = (await cpuOf(child)) - cpu0;
    return {
      client: `load runner (mixed: half WebSocket, half polling), ${CONCURRENCY} at once`,
      conversations: r.conversations.started + r.conversations.notStarted,
      whole: r.conversations.whole,
      seconds: r.seconds,
      perSecond: r.conversationsPerSecond,
      turnP50: r.turnMs.p50,
      turnP99: r.turnMs.p99,
      cpuUs: cpu / Math.max(1, r.conversations.whole),
    };
  } finally {
    await child.stop();
  }
}

async function withArtillery(): Promise<Row> {
  if (!existsSync(ARTILLERY)) throw new Error(`${ARTILLERY} is missing: run node scripts/install-load-tools.mjs`);
  const { child, domain } = await replayer();
  const dir = await mkdtemp(`${tmpdir()}/dlvcr-bench-artillery-`);
  try {
    const cpu0 = await cpuOf(child);
    const began = performance.now();
    const phases = [{ duration: ARRIVAL_SECONDS, arrivalRate: ARRIVAL_RATE }];
    await promisify(execFile)(
      ARTILLERY,
      [
        'run',
        '--target',
        domain,
        '--output',
        `${dir}/report.json`,
        '--overrides',
        JSON.stringify({ config: { phases } }),
        'examples/load/directline.yml',
      ],
      { cwd: ROOT, env: { ...process.env, ARTILLERY_DISABLE_TELEMETRY: 'true' }, timeout: 300_000, maxBuffer: 64 * 1024 * 1024 },
    );
    const seconds = (performance.now() - began) / 1000;
    const cpu = (await cpuOf(child)) - cpu0;
    const { aggregate } = JSON.parse(await readFile(`${dir}/report.json`, 'utf8')) as {
      aggregate: { counters: Record<string, number>; summaries: Record<string, { p50: number; p99: number }> };
    };
    const whole = aggregate.counters['directline.whole'] ?? 0;
    const turn = aggregate.summaries['directline.turn_ms'] ?? { p50: Number.NaN, p99: Number.NaN };
    return {
      client: `Artillery 2.0.34 (examples/load/directline.yml, WebSocket), ${ARRIVAL_RATE} new users/s for ${ARRIVAL_SECONDS} s`,
      conversations: aggregate.counters['vusers.created'] ?? 0,
      whole,
      seconds: Math.round(seconds * 10) / 10,
      // Artillery's rate is its arrival rate; this is whole conversations over its whole run (start-up included).
      perSecond: Math.round((whole / seconds) * 10) / 10,
      turnP50: turn.p50,
      turnP99: turn.p99,
      cpuUs: cpu / Math.max(1, whole),
    };
  } finally {
    await child.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

export const load: BenchCase = {
  name: 'load',
  title: '8. Load against replay: the load runner and Artillery',
  async run(ctx) {
    const rows: Row[] = [];
    for (const [name, f] of [
      ['load runner', withRunner],
      ['Artillery', withArtillery],
    ] as const) {
      const row = await f();
      rows.push(row);
      ctx.log(
        `  ${name}: ${row.whole} of ${row.conversations} whole, ${fmt(row.perSecond, 1)} conversations/s, turn p99 ${fmt(row.turnP99)} ms`,
      );
    }
    return {
      config: {
        cassette: 'recordings/demo.json',
        conversations: CONVERSATIONS,
        concurrency: CONCURRENCY,
        artillery: { ARRIVAL_RATE, ARRIVAL_SECONDS },
      },
      rounds: rows,
      summary: {},
      targets: rows.map((row) => ({
        what: `every conversation whole: ${row.client.split(' (')[0]}`,
        target: 'all',
        measured: `${row.whole.toLocaleString('en-US')} of ${row.conversations.toLocaleString('en-US')}`,
        met: row.whole === row.conversations && row.conversations > 0,
      })),
      notes: [],
    };
  },
  render(res: BenchResult) {
    const rows = res.rounds as Row[];
    const markdown = [
      'One replay process (`startReplayer`, speed instant, the demo cassette: a welcome and four user messages with their ' +
        'replies, an image and a card) in its own process; the clients in the runner process, on the same 2 cores. ' +
        'Each conversation is checked whole by its client (every recorded bot text, in order). Not a target: the figures a ' +
        'user can expect from one process on this machine (behind nginx, N processes share the machine: see ' +
        '`test/scale/nginx.test.ts` for the scale-out that is checked).',
      '',
      table(
        [
          'client',
          'conversations',
          'whole',
          'seconds',
          'whole conversations/s',
          'turn p50 ms',
          'turn p99 ms',
          'replay CPU µs/conversation',
        ],
        rows.map((r) => [
          r.client,
          r.conversations,
          r.whole,
          fmt(r.seconds, 1),
          fmt(r.perSecond, 1),
          fmt(r.turnP50),
          fmt(r.turnP99),
          fmt(r.cpuUs, 0),
        ]),
      ),
      '',
      targetsTable(res.targets),
    ].join('\n');
    return { markdown, charts: [] };
  },
};
