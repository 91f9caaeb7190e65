// The product under test in its own process: startRecorder (src/record/recorder.ts) writing a cassette
// to a temp folder. Commands: start (a fresh recorder and cassette), count, close, memory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startRecorder as productStartRecorder, type Recorder } from '../../src/record/recorder.js';
import { childArgs, measuredMemory, serveParent } from '../lib/child.js';

const { upstream, flushIntervalMs, passthrough } = childArgs<{ upstream: string; flushIntervalMs?: number; passthrough?: boolean }>();
// BENCH_SRC=<dir>: measure a candidate fix in a copy of src/ (e.g. scratch/bench-exp/src) before applying it.
const startRecorder: typeof productStartRecorder = process.env.BENCH_SRC
  ? (await import(pathToFileURL(join(process.env.BENCH_SRC, 'record/recorder.ts')).href)).startRecorder
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
serveParent({ ...first, pid: process.pid }, {
  start,
  count: () => recorder?.eventCount() ?? 0,
  /** Closes the recorder (the cassette is complete on disk) and answers with its path. */
  close: async () => {
    const r = recorder;
    recorder = null;
    await r?.close();
    return { cassette: r?.cassettePath ?? null, events: r?.eventCount() ?? 0 };
  },
  memory: () => measuredMemory(),
  exit: async () => {
    await recorder?.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  },
});
