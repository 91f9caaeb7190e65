// The product under test in its own process: startRecorder (src/record/recorder.ts) writing a cassette
// to a temp folder. Commands: start (a fresh recorder and cassette), count, flush, close, memory.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startRecorder as productStartRecorder, type Recorder } from '../../src/record/recorder.js';
import { childArgs, measuredMemory, serveParent } from '../lib/child.js';

const args = childArgs<{ upstream: string; flushIntervalMs?: number; passthrough?: boolean }>();
const { upstream, passthrough } = args;
// BENCH_FLUSH_MS=<ms> (experiments only): another flush interval, e.g. 600000 to write on close only.
const flushIntervalMs = process.env.BENCH_FLUSH_MS ? Number(process.env.BENCH_FLUSH_MS) : args.flushIntervalMs;
// BENCH_SRC=<dir>: measure a candidate fix in a copy of src/ (e.g. scratch/bench-exp/src) before applying it,
// or the tsc output (e.g. dist/), whose profiles have real line numbers.
const startRecorder: typeof productStartRecorder = process.env.BENCH_SRC
  ? (
      await import(
        pathToFileURL(
          join(
            process.env.BENCH_SRC,
            existsSync(join(process.env.BENCH_SRC, 'record/recorder.ts')) ? 'record/recorder.ts' : 'record/recorder.js',
          ),
        ).href
      )
    ).startRecorder
  : productStartRecorder;
const dir = mkdtempSync(join(tmpdir(), 'dlvcr-bench-rec-'));
let recorder: Recorder | null = null;
let n = 0;

async function start(): Promise<{ url: string; domain: string; cassette: string }> {
  if (recorder) await recorder.close();
  rmSync(join(dir, `cassette-${n}.json`), { force: true }); // the previous one was checked already
  const cassette = join(dir, `cassette-${++n}.json`);
  recorder = await startRecorder({ upstream, cassette: passthrough ? undefined : cassette, port: 0, flushIntervalMs });
  return { url: recorder.url, domain: recorder.domain, cassette };
}

const first = await start();
serveParent(
  { ...first, pid: process.pid },
  {
    start,
    count: () => recorder?.eventCount() ?? 0,
    /** Writes what the recorder has captured so far (the capture worker's share of a burst's CPU is only done then). */
    flush: async () => {
      await recorder?.flush();
    },
    /** Closes the recorder (the cassette is complete on disk) and answers with its path. */
    close: async () => {
      const r = recorder;
      recorder = null;
      await r?.close();
      return { cassette: r?.cassettePath ?? null, events: r?.eventCount() ?? 0 };
    },
    /** Memory after full collections in both heaps: the relay thread's and the capture worker's. */
    memory: async () => {
      await recorder?.collectGarbage?.();
      return measuredMemory();
    },
    exit: async () => {
      await recorder?.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  },
);
