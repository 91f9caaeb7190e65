// Child process of the cassette benchmark (run with --expose-gc, a fresh one per measurement):
//   write: feeds `n` ws.message events (1.1 KB ActivitySets, parsed the way the recorder stores them) to a
//          CassetteWriter at a steady `rate` per second, timing every write the writer makes;
//   load:  loadCassette (parse + validate) or plain JSON.parse of a file, timing it and reading the peak RSS.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { CassetteWriter } from '../../src/cassette/store.js';
import { loadCassette } from '../../src/cassette/load.js';
import type { CassetteEvent } from '../../src/cassette/schema.js';
import { serveParent } from '../lib/child.js';
import { activitySet, paddingFor } from '../lib/frames.js';

const gc = () => {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) {
    g();
    g();
  }
};

/** Peak and current resident set size (bytes) from /proc/self/status. */
function rssFromProc(): { hwm: number; rss: number } {
  const s = readFileSync('/proc/self/status', 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN) * 1024;
  return { hwm: kb('VmHWM'), rss: kb('VmRSS') };
}

async function write({ file, n, rate }: { file: string; n: number; rate: number }) {
  const writer = await CassetteWriter.create(file, { upstream: { origin: 'http://127.0.0.1:1', basePath: '/v3/directline' } });
  // Time each write the writer makes: the synchronous part (serialising, which blocks the event loop)
  // and the whole write (until the file on disk is complete).
  const db = (writer as unknown as { db: { write: () => Promise<void> } }).db;
  const original = db.write.bind(db);
  // CPU time of the synchronous part too: on a shared machine it is far steadier than wall time.
  const writes: Array<{ sync: number; syncCpu: number; total: number; events: number }> = [];
  // Events serialised by a write: the writer's own count when it keeps one (an incremental writer serialises
  // only what is new), else the whole cassette (a writer that rewrites the file).
  const serialised = () => (writer as { stats?: { eventsSerialised: number } }).stats?.eventsSerialised;
  db.write = async () => {
    const whole = writer.data.events.length;
    const before = serialised();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const p = original();
    const sync = performance.now() - t0;
    const c = process.cpuUsage(c0);
    await p;
    const after = serialised();
    const events = before === undefined || after === undefined ? whole : after - before;
    writes.push({ sync, syncCpu: (c.user + c.system) / 1000, total: performance.now() - t0, events });
  };
  const pad = paddingFor('scale', 1100);
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const start = performance.now();
  let fed = 0;
  let feedMs = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const t0 = performance.now();
      const due = Math.min(n, Math.ceil(((t0 - start) * rate) / 1000));
      for (; fed < due; fed++) {
        const text = activitySet('scale', fed + 1, 0, 1100, pad);
        const ev: CassetteEvent = {
          type: 'ws.message',
          t: writer.now(),
          conversationId: 'scale',
          socket: 0,
          from: 'server',
          data: { json: JSON.parse(text) },
        };
        writer.append(ev);
      }
      feedMs += performance.now() - t0;
      if (fed < n) setTimeout(tick, 5);
      else resolve();
    };
    tick();
  });
  const fedAt = performance.now();
  const c0 = performance.now();
  await writer.close();
  const closeMs = performance.now() - c0;
  delay.disable();
  return {
    n,
    rate,
    feedSeconds: (fedAt - start) / 1000,
    feedMs,
    writes: writes.length, // including the one close() makes
    /** Events serialised over all writes ÷ n: how many times each event was serialised on average. */
    serialisationsPerEvent: writes.reduce((s, w) => s + w.events, 0) / n,
    syncMs: writes.reduce((s, w) => s + w.sync, 0),
    syncCpuMs: writes.reduce((s, w) => s + w.syncCpu, 0),
    totalMs: writes.reduce((s, w) => s + w.total, 0),
    maxSyncMs: Math.max(0, ...writes.map((w) => w.sync)),
    closeMs,
    maxLoopDelayMs: delay.max / 1e6,
    bytes: (await readFile(file)).length,
  };
}

async function load({ file, mode }: { file: string; mode: 'loadCassette' | 'JSON.parse' }) {
  gc();
  const before = process.memoryUsage();
  const base = rssFromProc();
  const t0 = performance.now();
  let events: number;
  if (mode === 'loadCassette') events = (await loadCassette(file)).events.length;
  else events = (JSON.parse(await readFile(file, 'utf8')) as { events: unknown[] }).events.length;
  const ms = performance.now() - t0;
  const peak = rssFromProc();
  return { mode, events, ms, peakRssDelta: peak.hwm - base.rss, baseRss: base.rss, heapBefore: before.heapUsed };
}

serveParent({ pid: process.pid }, { write, load });
