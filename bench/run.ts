// `npm run bench [-- NAME… [--rounds N]]`: runs the benchmarks (all, or the named ones), writes each
// result to bench/results/<name>.json, then regenerates BENCHMARKS.md (and its SVG charts) from every
// stored result. Not part of `npm test`.
import { writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { benchCommand, machineInfo } from './lib/machine.js';
import type { BenchResult } from './lib/types.js';
import { CASES } from './cases/index.js';
import { writeReport } from './report.js';

// A run against a candidate fix (BENCH_SRC, BENCH_FLUSH_MS: see servers/recorder.ts) must not overwrite
// the product's results: it writes to BENCH_RESULTS_DIR (default a temp folder). BENCHMARKS.md is only
// regenerated from bench/results/.
const experiment = Boolean(process.env.BENCH_SRC || process.env.BENCH_FLUSH_MS);
const productResults = fileURLToPath(new URL('./results/', import.meta.url));
const resultsDir = process.env.BENCH_RESULTS_DIR
  ? process.env.BENCH_RESULTS_DIR.replace(/\/?$/, '/')
  : experiment
    ? `${tmpdir()}/dlvcr-bench-experiment/`
    : productResults;
const argv = process.argv.slice(2);
const names: string[] = [];
let rounds = 3;
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--rounds') rounds = Math.max(1, Number(argv[++i]));
  else if (argv[i] === '--report-only') names.push('--report-only');
  else names.push(argv[i]);
}
const reportOnly = names.includes('--report-only');
const unknown = names.filter((n) => n !== '--report-only' && !CASES.some((c) => c.name === n));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${CASES.map((c) => c.name).join(', ')}`);
  process.exit(2);
}
const selected = reportOnly ? [] : names.length ? CASES.filter((c) => names.includes(c.name)) : CASES;
mkdirSync(resultsDir, { recursive: true });
const started = performance.now();
const machine = machineInfo();
console.log(`directline-vcr benchmarks on ${machine.cpu} (${machine.cores} cores), node ${machine.node}; ${rounds} rounds`);
let failed = 0;
for (const c of selected) {
  console.log(`\n${c.title}`);
  const t0 = performance.now();
  try {
    const body = await c.run({ rounds, log: (line) => console.log(line) });
    const result: BenchResult = {
      name: c.name,
      title: c.title,
      date: new Date().toISOString(),
      machine: machineInfo(),
      command: benchCommand(argv),
      seconds: Math.round((performance.now() - t0) / 100) / 10,
      ...body,
    };
    writeFileSync(`${resultsDir}${c.name}.json`, JSON.stringify(result, null, 2) + '\n');
    for (const t of result.targets) console.log(`  ${t.met ? 'met   ' : 'MISSED'} ${t.what}: ${t.measured} (target ${t.target})`);
    console.log(`  (${result.seconds} s)`);
  } catch (err) {
    failed++;
    console.error(`  ${c.name} failed: ${(err as Error).stack ?? String(err)}`);
  }
}
if (resultsDir !== productResults) {
  console.log(
    `\nresults in ${resultsDir}${experiment ? ' (experiment)' : ''}; BENCHMARKS.md not touched ` +
      `(${Math.round((performance.now() - started) / 1000)} s in all)`,
  );
} else {
  const file = writeReport(resultsDir);
  console.log(`\nwrote ${file} (${Math.round((performance.now() - started) / 1000)} s in all)`);
}
process.exit(failed ? 1 : 0);
