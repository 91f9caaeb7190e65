// Profiles the recorder's stream relay on its own: one 50k-frame burst (as in bench/cases/ws-record.ts)
// through startRecorder under --cpu-prof; prints the top functions.
//   node --import tsx bench/tools/profile-ws.ts [frames] [outDir] [deflate=1|0] [src=DIR]
import { readdirSync, mkdirSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { startChild } from '../lib/child.js';
import { runStream, streamUrl } from '../lib/stream-client.js';

const frames = Number(process.argv[2] ?? 50_000);
const dir = process.argv[3] ?? `/tmp/dlvcr-prof-ws-${Date.now()}`;
const deflate = (process.argv[4] ?? '1') !== '0';
const src = process.argv[5]?.startsWith('src=') ? process.argv[5].slice(4) : undefined;
mkdirSync(dir, { recursive: true });
process.env.BENCH_CPU_PROF = dir;
const upstream = await startChild<{ url: string }>('servers/ws-upstream.ts');
const recorder = await startChild<{ url: string }>(
  'servers/recorder.ts',
  { upstream: upstream.info.url.replace(/^ws/, 'http') + '/v3/directline' },
  { product: true, env: src ? { BENCH_SRC: src } : {} },
);
const run = await runStream(streamUrl(recorder.info.url, 'prof', { n: frames, size: 1100, rate: 0 }), frames, {
  deflate,
  timeoutMs: 120_000,
});
console.log(`record: ${Math.round(run.fps)} frames/s (${run.seconds.toFixed(2)} s), client deflate ${deflate}`);
await recorder.stop();
await upstream.stop();
// The product's main thread: the largest main-thread profile (tsx's loader thread writes one too).
const main = readdirSync(dir)
  .filter((f) => f.endsWith('.001.cpuprofile'))
  .sort((a, b) => statSync(`${dir}/${b}`).size - statSync(`${dir}/${a}`).size)[0];
console.log(
  execFileSync(process.execPath, ['--import', 'tsx', new URL('./cpuprofile-top.ts', import.meta.url).pathname, `${dir}/${main}`, '30'], {
    encoding: 'utf8',
  }),
);
