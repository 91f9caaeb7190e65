// Profiles one proxy of the HTTP benchmark on its own: the same load as bench/cases/http-record.ts for
// `seconds`, with the proxy (forwarder or recorder) under --cpu-prof; prints the top functions.
//   [BENCH_SRC=dir] node --import tsx bench/tools/profile-http.ts forwarder|record|passthrough [seconds] [outDir]
// (BENCH_SRC=<tsc output dir> gives real line numbers in the profile.)
import { readdirSync, mkdirSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { startChild } from '../lib/child.js';
import { loadOnce, BASE } from '../cases/http-record.js';

const mode = process.argv[2] ?? 'record';
const seconds = Number(process.argv[3] ?? 5);
const dir = process.argv[4] ?? `/tmp/dlvcr-prof-${mode}-${Date.now()}`;
mkdirSync(dir, { recursive: true });
process.env.BENCH_CPU_PROF = dir;
const upstream = await startChild<{ url: string }>('servers/http-upstream.ts');
const proxy =
  mode === 'forwarder'
    ? await startChild<{ url: string }>('servers/http-forwarder.ts', { upstream: upstream.info.url }, { product: true })
    : await startChild<{ url: string }>(
        'servers/recorder.ts',
        { upstream: upstream.info.url + BASE, passthrough: mode === 'passthrough' },
        { product: true, env: process.env.BENCH_SRC ? { BENCH_SRC: process.env.BENCH_SRC } : {} },
      );
await loadOnce(proxy.info.url, 0.5);
const res = await loadOnce(proxy.info.url, seconds);
console.log(`${mode}: ${Math.round(res.requests.total / res.duration)} req/s, p50 ${res.latency.p50} ms, p99 ${res.latency.p99} ms`);
await proxy.stop();
await upstream.stop();
// The product's main thread: the largest main-thread profile (tsx's loader thread writes one too).
const main = readdirSync(dir)
  .filter((f) => f.endsWith('.001.cpuprofile'))
  .sort((a, b) => statSync(`${dir}/${b}`).size - statSync(`${dir}/${a}`).size)[0];
console.log(
  execFileSync(process.execPath, ['--import', 'tsx', new URL('./cpuprofile-top.ts', import.meta.url).pathname, `${dir}/${main}`, '25'], {
    encoding: 'utf8',
  }),
);
