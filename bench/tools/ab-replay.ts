// A/B tool for the HTTP replay benchmark: interleaved rounds of the constant node:http server and replayers
// (this src/, or another copy of it) under the load of bench/cases/replay.ts, with the replayer's CPU per
// request split into user and system time.
//   node --import tsx bench/tools/ab-replay.ts [--rounds N] [--seconds S] VARIANT…
// VARIANT: plain (servers/http-upstream.ts) | replay (startReplayer of this src/) | src=DIR (startReplayer of
// a copy of src/, e.g. scratch/base/src made with `git archive main src | tar -x -C scratch/base`); src=DIR#tag
// also sets BENCH_TAG=tag in the child, for experiments in that copy that branch on it
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChild, type Child } from '../lib/child.js';
import { hammer } from '../cases/replay.js';
import { conversationsCassette } from '../lib/replay-cassettes.js';
import { median, rotation } from '../lib/stats.js';
import { abArgs } from '../lib/ab-args.js';

const { rounds, seconds, variants } = abArgs(process.argv.slice(2), { rounds: 3, seconds: 2 });
/** `DIR` or `DIR#tag`: the tag goes to the child as BENCH_TAG (for experiments that branch on it). */
function srcEnv(spec: string): Record<string, string> {
  const [src, tag] = spec.split('#');
  return tag === undefined ? { BENCH_SRC: src } : { BENCH_SRC: src, BENCH_TAG: tag };
}
const dir = mkdtempSync(join(tmpdir(), 'dlvcr-ab-replay-'));
const cassette = join(dir, 'starts.json');
writeFileSync(cassette, JSON.stringify(conversationsCassette(20, 24)));
const children = new Map<string, Child<{ url: string }>>();
for (const v of variants) {
  if (v === 'plain') children.set(v, await startChild('servers/http-upstream.ts'));
  else if (v === 'replay') children.set(v, await startChild('servers/replayer.ts', { cassette, speed: 0 }, { product: true }));
  else if (v.startsWith('src='))
    children.set(v, await startChild('servers/replayer.ts', { cassette, speed: 0 }, { product: true, env: srcEnv(v.slice(4)) }));
  else throw new Error(`unknown variant ${v}`);
}
const urlOf = async (v: string) =>
  v === 'plain' ? children.get(v)!.info.url : (await children.get(v)!.call<{ url: string }>('start')).url;
for (const v of variants) await hammer(await urlOf(v), 0.5);
type Run = { rps: number; cpuUs: number; userUs: number; sysUs: number; non2xx: number };
const res = new Map<string, Run[]>(variants.map((v) => [v, []]));
for (let r = 0; r < rounds; r++) {
  for (const v of rotation(variants, r)) {
    const url = await urlOf(v);
    const child = children.get(v)!;
    const c0 = await child.cpu();
    const out = await hammer(url, seconds);
    const c1 = await child.cpu();
    const userUs = (c1.user - c0.user) / out.requests.total;
    const sysUs = (c1.system - c0.system) / out.requests.total;
    const run = { rps: out.requests.total / out.duration, cpuUs: userUs + sysUs, userUs, sysUs, non2xx: out.non2xx };
    res.get(v)!.push(run);
    console.log(
      `round ${r + 1} ${v.padEnd(24)} ${Math.round(run.rps).toString().padStart(6)} req/s  ${run.cpuUs.toFixed(1)} µs CPU/request ` +
        `(user ${userUs.toFixed(1)}, system ${sysUs.toFixed(1)})  non-2xx ${out.non2xx}`,
    );
  }
}
const ref = variants[0];
console.log(`\nmedians (ratio to ${ref}: per round, then median):`);
for (const v of variants) {
  const runs = res.get(v)!;
  const ratio = median(runs.map((x, i) => x.rps / res.get(ref)![i].rps));
  const m = (f: (x: Run) => number) => median(runs.map(f)).toFixed(1);
  console.log(
    `${v.padEnd(24)} ${m((x) => x.rps).padStart(8)} req/s  ${ratio.toFixed(2)}×  CPU ${m((x) => x.cpuUs)} µs/request ` +
      `(user ${m((x) => x.userUs)}, system ${m((x) => x.sysUs)})`,
  );
}
for (const c of children.values()) await c.stop();
rmSync(dir, { recursive: true, force: true });
