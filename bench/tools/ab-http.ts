// A/B tool for the HTTP record benchmark: interleaved rounds of the named proxies under the same load as
// bench/cases/http-record.ts, to measure where the recorder's overhead comes from and what a fix gains.
//   node --import tsx bench/tools/ab-http.ts [--rounds N] [--seconds S] VARIANT…
// VARIANT: direct | forwarder | record | passthrough (startRecorder without a cassette) | record-noflush
// (flushIntervalMs 600000: the cassette is written on close only) | src=DIR (the
// recorder of a copy of src/, e.g. scratch/bench-exp/src, writing a cassette) | pass:src=DIR (the same without a cassette)
import { startChild, type Child } from '../lib/child.js';
import { loadOnce, BASE } from '../cases/http-record.js';
import { median, rotation } from '../lib/stats.js';
import { abArgs } from '../lib/ab-args.js';

const { rounds, seconds, variants } = abArgs(process.argv.slice(2), { rounds: 3, seconds: 2 });
const upstream = await startChild<{ url: string }>('servers/http-upstream.ts');
const children = new Map<string, Child<{ url: string }>>();
for (const v of variants) {
  if (v === 'direct') continue;
  if (v === 'forwarder') children.set(v, await startChild('servers/http-forwarder.ts', { upstream: upstream.info.url }));
  else if (v === 'record' || v === 'passthrough' || v === 'record-noflush')
    children.set(
      v,
      await startChild('servers/recorder.ts', {
        upstream: upstream.info.url + BASE,
        passthrough: v === 'passthrough',
        flushIntervalMs: v === 'record-noflush' ? 600_000 : undefined,
      }),
    );
  else if (v.startsWith('src='))
    children.set(v, await startChild('servers/recorder.ts', { upstream: upstream.info.url + BASE }, { env: { BENCH_SRC: v.slice(4) } }));
  else if (v.startsWith('pass:src='))
    children.set(
      v,
      await startChild(
        'servers/recorder.ts',
        { upstream: upstream.info.url + BASE, passthrough: true },
        { env: { BENCH_SRC: v.slice(9) } },
      ),
    );
  else throw new Error(`unknown variant ${v}`);
}
const urlOf = async (v: string) =>
  v === 'direct'
    ? upstream.info.url
    : v === 'forwarder'
      ? children.get(v)!.info.url
      : (await children.get(v)!.call<{ url: string }>('start')).url;
for (const v of variants) await loadOnce(await urlOf(v), 0.5);
const res = new Map<string, Array<{ rps: number; p99: number; cpuUs: number; userUs: number; sysUs: number; mainUs: number }>>(
  variants.map((v) => [v, []]),
);
for (let r = 0; r < rounds; r++) {
  for (const v of rotation(variants, r)) {
    const url = await urlOf(v);
    const child = v === 'direct' ? upstream : children.get(v)!;
    const c0 = await child.cpu();
    const out = await loadOnce(url, seconds);
    const c1 = await child.cpu();
    const userUs = (c1.user - c0.user) / out.requests.total;
    const sysUs = (c1.system - c0.system) / out.requests.total;
    const cpuUs = userUs + sysUs;
    // The main thread alone (the relay's event loop; the capture worker excluded), from /proc in 10 ms ticks.
    const mainUs = c0.thread !== null && c1.thread !== null ? (c1.thread - c0.thread) / out.requests.total : Number.NaN;
    res.get(v)!.push({ rps: out.requests.total / out.duration, p99: out.latency.p99, cpuUs, userUs, sysUs, mainUs });
    const reqPerSec = Math.round(out.requests.total / out.duration)
      .toString()
      .padStart(6);
    console.log(
      `round ${r + 1} ${v.padEnd(28)} ${reqPerSec} req/s  p50 ${out.latency.p50} p99 ${out.latency.p99} ms  ` +
        `${cpuUs.toFixed(0)} µs CPU/request (user ${userUs.toFixed(0)}, system ${sysUs.toFixed(0)}, main thread ${mainUs.toFixed(0)})`,
    );
  }
}
const ref = variants.includes('forwarder') ? 'forwarder' : variants[0];
console.log(`\nmedians (ratio to ${ref}, per round then median):`);
for (const v of variants) {
  const rps = median(res.get(v)!.map((x) => x.rps));
  const ratios = res.get(v)!.map((x, i) => x.rps / res.get(ref)![i].rps);
  const p99r = res.get(v)!.map((x, i) => x.p99 / res.get(ref)![i].p99);
  const cpu = median(res.get(v)!.map((x) => x.cpuUs));
  const cpuRatio = median(res.get(v)!.map((x, i) => x.cpuUs / res.get(ref)![i].cpuUs));
  const user = median(res.get(v)!.map((x) => x.userUs));
  const sys = median(res.get(v)!.map((x) => x.sysUs));
  const main = median(res.get(v)!.map((x) => x.mainUs));
  console.log(
    `${v.padEnd(28)} ${Math.round(rps).toString().padStart(6)} req/s  ${median(ratios).toFixed(2)}×   p99 ` +
      `${median(res.get(v)!.map((x) => x.p99))} ms  ${median(p99r).toFixed(2)}×   CPU ${cpu.toFixed(0)} µs/request  ` +
      `${cpuRatio.toFixed(2)}× (user ${user.toFixed(0)}, system ${sys.toFixed(0)}, main thread ${main.toFixed(0)})`,
  );
}
for (const c of children.values()) await c.stop();
await upstream.stop();
