// CPU per request of each thread of the recorder process under the http-record load (diagnosis, not run by
// `npm run bench`): the relay's main thread, the capture worker, V8's and libuv's helper threads, read from
// /proc/<pid>/task/*/stat (10 ms ticks) around each round. Threads are told apart by id (Node names them all
// "node"): the busiest is the main thread, the next the capture worker. The forwarder is measured alongside.
//   node --import tsx bench/tools/thread-cpu.ts [--rounds 3] [--seconds 2]
import { readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { BASE, loadOnce } from '../cases/http-record.js';
import { type Child, startChild } from '../lib/child.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, seconds: { type: 'string', default: '2' } } });
const ROUNDS = Number(values.rounds);
const SECONDS = Number(values.seconds);

/** CPU ticks (user + system) of each thread of a process, by thread id. */
function ticks(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(tid, Number(fields[11]) + Number(fields[12]));
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

async function round(name: string, child: Child<{ url: string }>, url: string): Promise<void> {
  await loadOnce(url, 0.5);
  const before = ticks(child.pid);
  const res = await loadOnce(url, SECONDS);
  await new Promise((resolve) => setTimeout(resolve, 300)); // the capture of the last answers
  const after = ticks(child.pid);
  const n = res.requests.total;
  const threads = [...after].map(([tid, t]) => ({ tid, us: ((t - (before.get(tid) ?? 0)) * 10_000) / n })).filter((t) => t.us > 0);
  threads.sort((a, b) => b.us - a.us);
  const total = threads.reduce((s, t) => s + t.us, 0);
  const shown = threads.map((t, i) => `${i === 0 ? 'main' : i === 1 && name === 'record' ? 'worker?' : t.tid} ${t.us.toFixed(0)}`);
  console.log(`${name.padEnd(9)} ${Math.round(n / res.duration)} req/s, ${total.toFixed(0)} µs CPU/request: ${shown.join(', ')}`);
}

const upstream = await startChild<{ url: string }>('servers/http-upstream.ts');
const forwarder = await startChild<{ url: string }>('servers/http-forwarder.ts', { upstream: upstream.info.url });
const recorder = await startChild<{ url: string }>('servers/recorder.ts', { upstream: upstream.info.url + BASE }, { product: true });
try {
  for (let r = 0; r < ROUNDS; r++) {
    await round('forwarder', forwarder, forwarder.info.url);
    await round('record', recorder, (await recorder.call<{ url: string }>('start')).url);
  }
} finally {
  await Promise.all([recorder.stop(), forwarder.stop(), upstream.stop()]);
}
