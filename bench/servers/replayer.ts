// The replay server under test in its own process: startReplayer (src/replay/index.ts) on a cassette file.
// Commands: start (a fresh replayer: no sessions left from the previous run), summary.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startReplayer as productStartReplayer, type Replayer } from '../../src/replay/index.js';
import { childArgs, measuredMemory, serveParent } from '../lib/child.js';

// BENCH_SRC=<dir>: the replayer of another copy of src/ (e.g. scratch/base/src, to A/B a change with
// bench/tools/ab-replay.ts) or of the tsc output (dist/), whose profiles have real line numbers.
const startReplayer: typeof productStartReplayer = process.env.BENCH_SRC
  ? (
      await import(
        pathToFileURL(
          join(process.env.BENCH_SRC, existsSync(join(process.env.BENCH_SRC, 'replay/index.ts')) ? 'replay/index.ts' : 'replay/index.js'),
        ).href
      )
    ).startReplayer
  : productStartReplayer;

const { cassette, speed } = childArgs<{ cassette: string; speed: number }>();
let replayer: Replayer | null = null;

async function start(): Promise<{ url: string; domain: string }> {
  await replayer?.close();
  replayer = await startReplayer({ cassette, speed, port: 0 });
  return { url: replayer.url, domain: replayer.domain };
}

serveParent(
  { ...(await start()), pid: process.pid },
  {
    start,
    summary: () => replayer?.summary(),
    memory: () => measuredMemory(),
    exit: async () => {
      await replayer?.close();
    },
  },
);
