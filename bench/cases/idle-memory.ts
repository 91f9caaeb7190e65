// 3. Memory per idle proxied conversation: 1,000 client↔proxy↔upstream stream pairs held open through
// the recorder (and through the plain ws relay, for reference), each proxy in a fresh child process run
// with --expose-gc; RSS and heap are read after two full collections, before and after.
import WebSocket from 'ws';
import { startChild, type Child } from '../lib/child.js';
import { fmt, table, targetsTable } from '../lib/md.js';
import { median, rotation, round, sleep } from '../lib/stats.js';
import { streamUrl } from '../lib/stream-client.js';
import { barChart } from '../lib/svg.js';
import type { BenchCase, BenchResult } from '../lib/types.js';

const PAIRS = 1000;
const GREETING_BYTES = 1100;
const MODES = ['relay', 'record'] as const;
type Mode = (typeof MODES)[number];
type Mem = { rss: number; heapUsed: number; external: number; arrayBuffers: number };
interface Run {
  mode: Mode;
  round: number;
  idle: PerPair;
  afterMessage: PerPair;
}
interface PerPair {
  rssKB: number;
  heapKB: number;
  externalKB: number;
}

const perPair = (a: Mem, b: Mem): PerPair => ({
  rssKB: (b.rss - a.rss) / 1024 / PAIRS,
  heapKB: (b.heapUsed - a.heapUsed) / 1024 / PAIRS,
  externalKB: (b.external - a.external) / 1024 / PAIRS,
});

async function openPairs(base: string, prefix: string, count: number): Promise<{ clients: WebSocket[]; got: () => number }> {
  const clients: WebSocket[] = [];
  let got = 0;
  for (let i = 0; i < count; i += 50) {
    await Promise.all(
      Array.from(
        { length: Math.min(50, count - i) },
        (_, j) =>
          new Promise<void>((resolve, reject) => {
            const ws = new WebSocket(streamUrl(base, `${prefix}-${i + j}`, { n: 0, size: GREETING_BYTES, rate: 0 }));
            ws.once('open', () => resolve());
            ws.once('error', reject);
            ws.on('message', () => {
              got++;
            });
            clients.push(ws);
          }),
      ),
    );
  }
  return { clients, got: () => got };
}

async function closeAll(clients: WebSocket[]): Promise<void> {
  await Promise.all(
    clients.map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          ws.once('close', () => resolve());
          ws.close();
        }),
    ),
  );
}

async function until(cond: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (!(await cond())) {
    if (performance.now() > end) throw new Error('timed out waiting');
    await sleep(20);
  }
}

export const idleMemory: BenchCase = {
  name: 'idle-memory',
  title: '3. Memory per idle proxied conversation',
  async run(ctx) {
    const upstream = await startChild<{ url: string }>('servers/ws-upstream.ts');
    const runs: Run[] = [];
    try {
      for (let r = 0; r < ctx.rounds; r++) {
        for (const mode of rotation(MODES, r)) {
          const proxy: Child<{ url: string }> =
            mode === 'relay'
              ? await startChild('servers/ws-relay.ts', { upstream: upstream.info.url }, { gc: true })
              : await startChild(
                  'servers/recorder.ts',
                  { upstream: upstream.info.url.replace(/^ws/, 'http') + '/v3/directline' },
                  { gc: true, product: true },
                );
          try {
            // Warm-up: load every lazily loaded module and JIT the paths (a few pairs, one message each way).
            const warm = await openPairs(proxy.info.url, `warm-${mode}-${r}`, 10);
            await upstream.call('greet', { size: GREETING_BYTES });
            for (const ws of warm.clients) ws.send('');
            await until(() => warm.got() >= 10, 5000);
            await closeAll(warm.clients);
            await until(async () => (await upstream.call<number>('open')) === 0, 5000);
            await sleep(200);
            const before = await proxy.call<Mem>('memory');
            const { clients, got } = await openPairs(proxy.info.url, `idle-${mode}-${r}`, PAIRS);
            await until(async () => (await upstream.call<number>('open')) === PAIRS, 10_000);
            await sleep(300);
            const idle = await proxy.call<Mem>('memory');
            // Then one frame each way (a welcome ActivitySet down, an empty keep-alive up), and idle again.
            await upstream.call('greet', { size: GREETING_BYTES });
            for (const ws of clients) ws.send('');
            await until(() => got() >= PAIRS, 10_000);
            await sleep(300);
            const after = await proxy.call<Mem>('memory');
            const run: Run = { mode, round: r, idle: perPair(before, idle), afterMessage: perPair(before, after) };
            runs.push(run);
            ctx.log(
              `  round ${r + 1} ${mode.padEnd(6)} idle: ${fmt(run.idle.rssKB, 1)} KB RSS, ${fmt(run.idle.heapKB, 1)} KB heap ` +
                `per pair; after one message each way: ${fmt(run.afterMessage.rssKB, 1)} KB RSS, ` +
                `${fmt(run.afterMessage.heapKB, 1)} KB heap, ${fmt(run.afterMessage.externalKB, 1)} KB external`,
            );
            await closeAll(clients);
          } finally {
            await proxy.stop();
          }
          await until(async () => (await upstream.call<number>('open')) === 0, 10_000).catch(() => undefined);
        }
      }
    } finally {
      await upstream.stop();
    }
    const med = (mode: Mode, k: 'idle' | 'afterMessage', f: keyof PerPair) =>
      round(median(runs.filter((x) => x.mode === mode).map((x) => x[k][f])), 2);
    const summary = Object.fromEntries(
      MODES.map((m) => [
        m,
        {
          idle: { rssKB: med(m, 'idle', 'rssKB'), heapKB: med(m, 'idle', 'heapKB'), externalKB: med(m, 'idle', 'externalKB') },
          afterMessage: {
            rssKB: med(m, 'afterMessage', 'rssKB'),
            heapKB: med(m, 'afterMessage', 'heapKB'),
            externalKB: med(m, 'afterMessage', 'externalKB'),
          },
        },
      ]),
    ) as Record<Mode, Record<'idle' | 'afterMessage', PerPair>>;
    return {
      config: {
        pairs: PAIRS,
        greetingBytes: GREETING_BYTES,
        client: 'ws clients in the runner process, default options (offer permessage-deflate)',
        upstream: 'ws server in a child process, no permessage-deflate',
        measurement:
          'process.memoryUsage() in the proxy process after gc() twice (--expose-gc); per pair = (after − before) / pairs; ' +
          'fresh proxy process every run',
      },
      rounds: runs,
      summary,
      targets: [
        {
          what: 'recorder RSS per idle conversation (after the handshake)',
          target: '≤ 30 KB',
          measured: `${fmt(summary.record.idle.rssKB, 1)} KB`,
          met: summary.record.idle.rssKB <= 30,
        },
        {
          what: 'recorder RSS per idle conversation (after one 1.1 KB frame each way)',
          target: '≤ 30 KB',
          measured: `${fmt(summary.record.afterMessage.rssKB, 1)} KB`,
          met: summary.record.afterMessage.rssKB <= 30,
        },
      ],
      notes: [],
    };
  },
  render(res: BenchResult) {
    const s = res.summary as Record<Mode, Record<'idle' | 'afterMessage', PerPair>>;
    const label = (m: Mode) => (m === 'relay' ? 'plain ws relay (reference)' : 'startRecorder (record)');
    const markdown = [
      `${(res.config.pairs as number).toLocaleString('en-US')} idle client↔proxy↔upstream stream pairs; KB per pair in the ` +
        `proxy process (medians of ${(res.rounds as Run[]).length / MODES.length} rounds).`,
      '',
      table(
        [
          'proxy',
          'RSS KB (idle)',
          'heap KB (idle)',
          'RSS KB (after 1 frame each way)',
          'heap KB (after)',
          'external KB (after)',
          'RSS vs relay (after)',
        ],
        MODES.map((m) => [
          label(m),
          fmt(s[m].idle.rssKB, 1),
          fmt(s[m].idle.heapKB, 1),
          fmt(s[m].afterMessage.rssKB, 1),
          fmt(s[m].afterMessage.heapKB, 1),
          fmt(s[m].afterMessage.externalKB, 1),
          `${fmt(s[m].afterMessage.rssKB / s.relay.afterMessage.rssKB)}×`,
        ]),
      ),
      '',
      targetsTable(res.targets),
      '',
      '![Memory per conversation](bench/results/idle-memory.svg)',
    ].join('\n');
    const svg = barChart({
      title: 'RSS per idle proxied conversation (KB, median)',
      unit: 'KB',
      bars: MODES.flatMap((m) => [
        {
          label: `${m === 'relay' ? 'plain relay' : 'record'}, idle`,
          value: s[m].idle.rssKB,
          text: `${fmt(s[m].idle.rssKB, 1)} KB`,
          kind: m === 'relay' ? ('ref' as const) : s[m].idle.rssKB <= 30 ? ('ok' as const) : ('miss' as const),
        },
        {
          label: `${m === 'relay' ? 'plain relay' : 'record'}, after 1 frame`,
          value: s[m].afterMessage.rssKB,
          text: `${fmt(s[m].afterMessage.rssKB, 1)} KB`,
          kind: m === 'relay' ? ('ref' as const) : s[m].afterMessage.rssKB <= 30 ? ('ok' as const) : ('miss' as const),
        },
      ]),
      target: { value: 30, label: '30 KB target' },
    });
    return { markdown, charts: [{ file: 'idle-memory.svg', svg }] };
  },
};
