// 5c. Replay memory per live session: a replayer serving the shipped demo cassette, N clients each start a
// conversation and open its stream (and get the recorded welcome); RSS and heap of the replay process after
// two full collections, before and after, divided by N.
import WebSocket from 'ws';
import { fileURLToPath } from 'node:url';
import { startChild } from '../lib/child.js';
import { fmt, table, targetsTable } from '../lib/md.js';
import { median, round } from '../lib/stats.js';
import type { BenchCase, BenchResult } from '../lib/types.js';

const SESSIONS = 300;
const DEMO = fileURLToPath(new URL('../../recordings/demo.json', import.meta.url));
type Mem = { rss: number; heapUsed: number; external: number; arrayBuffers: number };
interface Run {
  round: number;
  rssKB: number;
  heapKB: number;
}

/** Starts one live session on the replayer and keeps its stream open until `release` resolves. */
async function session(domain: string, release: Promise<void>): Promise<void> {
  const start = await fetch(`${domain}/conversations`, {
    method: 'POST',
    headers: { authorization: 'Bearer bench', 'content-type': 'application/json' },
    body: '{"user":{"id":"bench-user"}}',
  });
  if (start.status !== 201) throw new Error(`conversations.start → ${start.status}`);
  const { streamUrl } = (await start.json()) as { streamUrl: string };
  const ws = new WebSocket(streamUrl, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once('message', () => resolve());
    ws.once('error', reject);
  });
  await release;
  ws.close();
}

export const replayMemory: BenchCase = {
  name: 'replay-memory',
  title: '5c. Replay memory per live session',
  async run(ctx) {
    const runs: Run[] = [];
    for (let r = 0; r < ctx.rounds; r++) {
      const replayer = await startChild<{ url: string; domain: string }>(
        'servers/replayer.ts',
        { cassette: DEMO, speed: 1 },
        { gc: true, product: true },
      );
      try {
        const { domain } = await replayer.call<{ domain: string }>('start');
        await session(domain, Promise.resolve()); // warm-up: code paths compiled, caches built
        const before = await replayer.call<Mem>('memory');
        let release!: () => void;
        const released = new Promise<void>((resolve) => {
          release = resolve;
        });
        const opened: Promise<void>[] = [];
        for (let i = 0; i < SESSIONS; i++) opened.push(session(domain, released));
        // Every session has its welcome before memory is read.
        await new Promise((resolve) => setTimeout(resolve, 1500));
        const after = await replayer.call<Mem>('memory');
        release();
        await Promise.all(opened);
        const run = {
          round: r,
          rssKB: (after.rss - before.rss) / 1024 / SESSIONS,
          heapKB: (after.heapUsed - before.heapUsed) / 1024 / SESSIONS,
        };
        runs.push(run);
        ctx.log(`  round ${r + 1}: ${fmt(run.rssKB, 1)} KB RSS, ${fmt(run.heapKB, 1)} KB heap per live session (${SESSIONS} sessions)`);
      } finally {
        await replayer.stop();
      }
    }
    const rssKB = round(median(runs.map((x) => x.rssKB)), 1);
    const heapKB = round(median(runs.map((x) => x.heapKB)), 1);
    return {
      config: {
        sessions: SESSIONS,
        cassette: 'recordings/demo.json',
        session: 'POST /conversations, open the stream, receive the welcome; kept open while memory is read',
        measurement:
          'process.memoryUsage() in the replay process after gc() twice (--expose-gc); per session = (after − before) / sessions',
      },
      rounds: runs,
      summary: { rssKB, heapKB },
      targets: [
        {
          what: 'replay RSS per live session (demo cassette, stream open)',
          target: '≤ 50 KB',
          measured: `${fmt(rssKB, 1)} KB (heap ${fmt(heapKB, 1)} KB)`,
          met: rssKB <= 50,
        },
      ],
      notes: [],
    };
  },
  render(res: BenchResult) {
    const s = res.summary as { rssKB: number; heapKB: number };
    const markdown = [
      `${res.config.sessions as number} live sessions of the shipped demo cassette, each with its stream open; memory of the ` +
        'replay process after two full collections, before and after, per session (medians of the rounds).',
      '',
      table(
        ['per live session', 'KB'],
        [
          ['RSS', fmt(s.rssKB, 1)],
          ['heap used', fmt(s.heapKB, 1)],
        ],
      ),
      '',
      targetsTable(res.targets),
    ].join('\n');
    return { markdown, charts: [] };
  },
};
