// Diagnosis: one long stream through the recorder (as the ws-memory benchmark), printing the recorder's
// peak RSS at the end.
//   node --import tsx bench/tools/memory-ws.ts [--frames N] [--size BYTES] [--src DIR]
import { readFile } from 'node:fs/promises';
import { startChild } from '../lib/child.js';
import { runStream, streamUrl } from '../lib/stream-client.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const frames = Number(opt('frames', '1000000'));
const size = Number(opt('size', '300'));
const src = opt('src', '');
const upstream = await startChild<{ url: string }>('servers/ws-upstream.ts');
const rec = await startChild<{ url: string }>(
  'servers/recorder.ts',
  { upstream: upstream.info.url.replace(/^ws/, 'http') + '/v3/directline' },
  { product: true, env: src ? { BENCH_SRC: src } : {} },
);
try {
  const run = await runStream(streamUrl(rec.info.url, 'memory-diag', { n: frames, size, rate: 0 }), frames, { timeoutMs: 600_000 });
  const status = await readFile(`/proc/${rec.pid}/status`, 'utf8');
  const peak = Number(/^VmHWM:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? 0) / 1024;
  const cpu = await rec.call<{ events: number }>('close', undefined, 300_000);
  console.log(`${frames} × ${size} B: peak RSS ${peak.toFixed(0)} MB, ${run.fps.toFixed(0)} frames/s, ${cpu.events} events`);
} finally {
  await rec.stop();
  await upstream.stop();
}
