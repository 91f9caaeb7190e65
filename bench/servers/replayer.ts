// The replay server under test in its own process: startReplayer (src/replay/index.ts) on a cassette file.
// Commands: start (a fresh replayer: no sessions left from the previous run), summary.
import { startReplayer, type Replayer } from '../../src/replay/index.js';
import { childArgs, measuredMemory, serveParent } from '../lib/child.js';

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
