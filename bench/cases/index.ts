// Every benchmark, in the order `npm run bench` runs them and BENCHMARKS.md shows them.
import type { BenchCase } from '../lib/types.js';
import { httpRecord } from './http-record.js';

export const CASES: BenchCase[] = [httpRecord];

/** Benchmarks that exist only as a heading until they can run. */
export const PENDING: Array<{ title: string; why: string }> = [];
