// The shape of a stored benchmark result (bench/results/<name>.json) and of a benchmark case.
import type { MachineInfo } from './machine.js';

export interface Target {
  /** What is checked, in words. */
  what: string;
  /** The target, in words (e.g. "≥ 0.9× forwarder req/s"). */
  target: string;
  /** The measured value, formatted. */
  measured: string;
  met: boolean;
  /** Said next to the result, e.g. when the baseline itself misses the target in that run. */
  note?: string;
}

export interface BenchResult {
  name: string;
  title: string;
  date: string;
  machine: MachineInfo;
  command: string;
  /** Wall time of this benchmark in seconds. */
  seconds: number;
  config: Record<string, unknown>;
  /** Raw per-round measurements. */
  rounds: unknown[];
  /** Medians and ratios the tables show. */
  summary: Record<string, unknown>;
  targets: Target[];
  notes: string[];
}

export interface RunContext {
  rounds: number;
  log: (line: string) => void;
}

export interface BenchCase {
  name: string;
  title: string;
  /** Runs the benchmark; the runner adds name, title, date, machine, command and seconds. */
  run(ctx: RunContext): Promise<Omit<BenchResult, 'name' | 'title' | 'date' | 'machine' | 'command' | 'seconds'>>;
  /** The BENCHMARKS.md section for a stored result (tables, then any charts it wrote). */
  render(result: BenchResult): { markdown: string; charts?: Array<{ file: string; svg: string }> };
}
