// Every benchmark, in the order `npm run bench` runs them and BENCHMARKS.md shows them.
import type { BenchCase } from '../lib/types.js';
import { httpRecord } from './http-record.js';
import { wsLatency, wsMemory, wsThroughput } from './ws-record.js';
import { idleMemory } from './idle-memory.js';
import { cassetteScaling } from './cassette-scaling.js';
import { replayHttp, replayTiming } from './replay.js';
import { replayMemory } from './replay-memory.js';
import { inspectorOpen } from './inspector-open.js';
import { soak } from './soak.js';
import { load } from './load.js';

export const CASES: BenchCase[] = [
  httpRecord,
  wsThroughput,
  wsLatency,
  wsMemory,
  idleMemory,
  cassetteScaling,
  replayHttp,
  replayTiming,
  replayMemory,
  inspectorOpen,
  soak,
  load,
];

/** Benchmarks that exist only as a heading until they can run. */
export const PENDING: Array<{ title: string; why: string }> = [];
