// 5c. Replay memory per live session: a replayer serving the shipped demo cassette, N clients each start a
// conversation and open its stream (and get the recorded welcome); RSS and heap of the replay process after
// two full collections, before and after, divided by N. A first burst of N sessions (opened, then closed)
// warms the process up, and the young generation's growth is taken out of the RSS delta: V8 keeps its
// semi-spaces committed after a collection and grows them with the allocation rate (by megabytes, i.e. up
// to ~100 KB per session of 300), which made single runs read anywhere from 18 to 62 KB.
import WebSocket from 'ws';
import { fileURLToPath } from 'node:url';
import { startChild, type Child } from '../lib/child.js';
import { fmt, table, targetsTable } from '../lib/md.js';
import { median, round } from '../lib/stats.js';
import type { BenchCase, BenchResult } from '../lib/types.js';

const SESSIONS = 300;
const DEMO = fileURLToPath(new URL('../../recordings/demo.json', import.meta.url));
type Mem = { rss: number; heapUsed: number; external: number; arrayBuffers: number; newSpace: number };
interface Run {
  round: number;
  rssKB: number;
  heapKB: number;
  /** RSS delta per session as read, young generation included. */
  rawRssKB: number;
  newSpaceKB: number;
}
const SAMPLES = 3;

/** Memory after full collections, the smallest of a few reads (RSS goes down as freed pages are returned). */
async function sample(replayer: Child<unknown>): Promise<Mem> {
  const reads: Mem[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    reads.push(await replayer.call<Mem>('memory'));
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const least = (k: keyof Mem) => Math.min(...reads.map((m) => m[k]));
  return {
    rss: least('rss'),
    heapUsed: least('heapUsed'),
    external: least('external'),
    arrayBuffers: least('arrayBuffers'),
    newSpace: least('newSpace'),
  };
}

/** N sessions with their streams open (each has had its welcome): memory is read, then they close. */
async function burst(domain: string, replayer: Child<unknown>): Promise<Mem> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const welcomed: Promise<void>[] = [];
  const closed: Promise<void>[] = [];
  for (let i = 0; i < SESSIONS; i++) {
    let welcome!: () => void;
    welcomed.push(new Promise<void>((resolve) => (welcome = resolve)));
    closed.push(session(domain, released, welcome));
  }
  await Promise.race([Promise.all(welcomed), Promise.all(closed)]);
  const m = await sample(replayer);
  release();
  await Promise.all(closed);
  return m;
}

/** Starts one live session on the replayer and keeps its stream open until `release` resolves. */
async function session(domain: string, release: Promise<void>, welcomed: () => void = () => {}): Promise<void> {
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
  welcomed();
  await release;
  ws.close();
  await new Promise((resolve) => ws.once('close', resolve));
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
        await burst(domain, replayer); // warm-up: code paths compiled, caches built, the young generation grown
        const before = await sample(replayer);
        const after = await burst(domain, replayer);
        const per = (bytes: number) => bytes / 1024 / SESSIONS;
        const newSpaceKB = per(after.newSpace - before.newSpace);
        const rawRssKB = per(after.rss - before.rss);
        const run: Run = { round: r, rssKB: rawRssKB - newSpaceKB, heapKB: per(after.heapUsed - before.heapUsed), rawRssKB, newSpaceKB };
        runs.push(run);
        ctx.log(
          `  round ${r + 1}: ${fmt(run.rssKB, 1)} KB RSS, ${fmt(run.heapKB, 1)} KB heap per live session (${SESSIONS} sessions; ` +
            `RSS as read ${fmt(rawRssKB, 1)} KB, of it young generation growth ${fmt(newSpaceKB, 1)} KB)`,
        );
      } finally {
        await replayer.stop();
      }
    }
    const rssKB = round(median(runs.map((x) => x.rssKB)), 1);
    const heapKB = round(median(runs.map((x) => x.heapKB)), 1);
    const rawRssKB = round(median(runs.map((x) => x.rawRssKB)), 1);
    const newSpaceKB = round(median(runs.map((x) => x.newSpaceKB)), 1);
    return {
      config: {
        sessions: SESSIONS,
        cassette: 'recordings/demo.json',
        session: 'POST /conversations, open the stream, receive the welcome; kept open while memory is read',
        measurement:
          'process.memoryUsage() in the replay process after gc() twice (--expose-gc), least of 3 reads, after a warm-up burst of ' +
          'as many sessions; per session = (after − before − growth of V8 new space) / sessions',
      },
      rounds: runs,
      summary: { rssKB, heapKB, rawRssKB, newSpaceKB },
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
    const s = res.summary as { rssKB: number; heapKB: number; rawRssKB?: number; newSpaceKB?: number };
    const markdown = [
      `${res.config.sessions as number} live sessions of the shipped demo cassette, each with its stream open; memory of the ` +
        'replay process after two full collections, before and after a burst of that many sessions (after a warm-up burst), ' +
        "per session (medians of the rounds). RSS leaves out the growth of V8's young generation, which stays committed " +
        'after a collection (shown apart).',
      '',
      table(
        ['per live session', 'KB'],
        [
          ['RSS', fmt(s.rssKB, 1)],
          ['heap used', fmt(s.heapKB, 1)],
          ...(s.rawRssKB === undefined
            ? []
            : [
                ['RSS as read (young generation included)', fmt(s.rawRssKB, 1)],
                ['of it, young generation growth', fmt(s.newSpaceKB ?? 0, 1)],
              ]),
        ],
      ),
      '',
      targetsTable(res.targets),
    ].join('\n');
    return { markdown, charts: [] };
  },
};
