// A/B tool for the stream benchmarks: interleaved rounds of 50k-frame bursts (frames/s and CPU µs per
// frame in the proxy process) and optionally 2,000 frames/s latency runs, through the named proxies.
//   node --import tsx bench/tools/ab-ws.ts [--rounds N] [--frames N] [--latency] VARIANT…
// VARIANT: direct | relay | record | record-noflush (cassette written on close only) | src=DIR (the recorder
// of a copy of src/) ; append ":nodeflate" to make the client offer no permessage-deflate.
import { startChild, type Child } from '../lib/child.js';
import { runStream, streamUrl } from '../lib/stream-client.js';
import { median, rotation, summarize } from '../lib/stats.js';
import { abArgs } from '../lib/ab-args.js';

const { rounds, frames, latency, variants } = abArgs(process.argv.slice(2), { rounds: 3, frames: 50_000 }, ['latency']);
const upstream = await startChild<{ url: string }>('servers/ws-upstream.ts');
const httpUp = upstream.info.url.replace(/^ws/, 'http') + '/v3/directline';
const children = new Map<string, Child<{ url: string }>>();
for (const v of variants) {
  const [kind] = v.split(':');
  if (kind === 'direct' || children.has(kind)) continue;
  if (kind === 'relay') children.set(kind, await startChild('servers/ws-relay.ts', { upstream: upstream.info.url }));
  else if (kind === 'record' || kind === 'record-noflush')
    children.set(
      kind,
      await startChild('servers/recorder.ts', { upstream: httpUp, flushIntervalMs: kind === 'record-noflush' ? 600_000 : undefined }),
    );
  else if (kind.startsWith('src='))
    children.set(kind, await startChild('servers/recorder.ts', { upstream: httpUp }, { env: { BENCH_SRC: kind.slice(4) } }));
  else if (kind.startsWith('noflush-src='))
    children.set(
      kind,
      await startChild('servers/recorder.ts', { upstream: httpUp, flushIntervalMs: 600_000 }, { env: { BENCH_SRC: kind.slice(12) } }),
    );
  else throw new Error(`unknown variant ${v}`);
}
const baseOf = async (kind: string) => {
  if (kind === 'direct') return upstream.info.url;
  const c = children.get(kind)!;
  return kind === 'relay' ? c.info.url : (await c.call<{ url: string }>('start')).url;
};
let conv = 0;
const out = new Map<string, Array<{ fps: number; cpuUs: number; mainUs: number; p99?: number }>>(variants.map((v) => [v, []]));
for (const v of variants)
  await runStream(streamUrl(await baseOf(v.split(':')[0]), `warm-${++conv}`, { n: 2000, size: 1100, rate: 0 }), 2000, {
    deflate: !v.endsWith(':nodeflate'),
  });
for (let r = 0; r < rounds; r++) {
  for (const v of rotation(variants, r)) {
    const [kind] = v.split(':');
    const deflate = !v.endsWith(':nodeflate');
    const base = await baseOf(kind);
    const child = kind === 'direct' ? upstream : children.get(kind)!;
    const c0 = await child.cpu();
    const run = await runStream(streamUrl(base, `ab-${++conv}`, { n: frames, size: 1100, rate: 0 }), frames, {
      deflate,
      timeoutMs: 120_000,
    });
    // A recorder's burst costs its CPU until the events are on disk (the capture worker may still be at work).
    if (kind !== 'relay' && kind !== 'direct') await child.call('flush', undefined, 120_000);
    const c1 = await child.cpu();
    const cpuUs = (c1.user - c0.user + c1.system - c0.system) / frames;
    // The main thread alone (the relay's event loop; the capture worker excluded), from /proc in 10 ms ticks.
    const mainUs = c0.thread !== null && c1.thread !== null ? (c1.thread - c0.thread) / frames : Number.NaN;
    let p99: number | undefined;
    if (latency) {
      const lat = await runStream(streamUrl(base, `ab-lat-${++conv}`, { n: 3000, size: 1100, rate: 2000 }), 3000, { deflate });
      p99 = summarize(lat.latencies).p99;
    }
    out.get(v)!.push({ fps: run.fps, cpuUs, mainUs, p99 });
    console.log(
      `round ${r + 1} ${v.padEnd(36)} ${Math.round(run.fps).toString().padStart(7)} frames/s  ${cpuUs.toFixed(1)} µs ` +
        `CPU/frame (main thread ${mainUs.toFixed(1)})${p99 !== undefined ? `  latency p99 ${p99.toFixed(1)} ms (after the burst)` : ''}`,
    );
  }
}
const ref = variants.find((v) => v.startsWith('relay')) ?? variants[0];
console.log(`\nmedians (ratios per round vs ${ref}, then median):`);
for (const v of variants) {
  const rs = out.get(v)!;
  const ratio = median(rs.map((x, i) => x.fps / out.get(ref)![i].fps));
  const p99s = rs.map((x) => x.p99).filter((x): x is number => x !== undefined);
  const fps = Math.round(median(rs.map((x) => x.fps)))
    .toString()
    .padStart(7);
  const cpuPerFrame = median(rs.map((x) => x.cpuUs)).toFixed(1);
  const mainPerFrame = median(rs.map((x) => x.mainUs)).toFixed(1);
  console.log(
    `${v.padEnd(36)} ${fps} frames/s  ${ratio.toFixed(2)}×   ${cpuPerFrame} µs CPU/frame (main thread ${mainPerFrame})` +
      `${p99s.length ? `   latency p99 ${median(p99s).toFixed(1)} ms` : ''}`,
  );
}
for (const c of children.values()) await c.stop();
await upstream.stop();
