// The programmatic API from other test runners: Vitest and Jest each run an example test (in
// test/api/runners/) that imports `directline-vcr`, replays recordings/demo.json and asserts on the bot's
// reply. Each runner is a child process, as a person would start it; it must exit 0 and report 1 passed test.
//   Vitest: the package's self-reference with the `dlvcr-source` condition (vitest.config.ts), so the
//           current src/ is tested through Vite's own TypeScript transform.
//   Jest:   the self-reference with Jest's default conditions, i.e. dist/ as published ("import"), in ESM
//           mode (--experimental-vm-modules) with no transform; dist/ is rebuilt first when src/ is newer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../support/fs.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const bin = (p: string) => join(ROOT, 'node_modules', p);

interface Run {
  code: number | null;
  out: string;
  ms: number;
}

/** Runs `node ...args` in the project folder; kills it after `limitMs`. */
function node(args: string[], limitMs = 60_000): Promise<Run> {
  const started = Date.now();
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  const timer = setTimeout(() => {
    out += `\n[killed after ${limitMs} ms]`;
    child.kill('SIGKILL');
  }, limitMs);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, ms: Date.now() - started });
    }),
  );
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith('.ts')) newest = Math.max(newest, statSync(join(e.parentPath, e.name)).mtimeMs);
  }
  return newest;
}

/** What `npm ci` does through `prepare`: dist/ from src/, when src/ changed since the last build. */
async function ensureDistIsCurrent(): Promise<void> {
  const built = statSync(join(ROOT, 'dist', 'index.js'), { throwIfNoEntry: false })?.mtimeMs ?? 0;
  if (built >= newestMtime(join(ROOT, 'src'))) return;
  const r = await node([bin('typescript/bin/tsc'), '-p', 'tsconfig.json'], 60_000);
  assert.equal(r.code, 0, `building dist/ failed:\n${r.out}`);
}

interface Report {
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
}

test('Vitest runs a test that replays a conversation through `directline-vcr`', async (t) => {
  const tmp = await tempDir();
  try {
    const report = tmp.file('vitest.json');
    const r = await node([
      bin('vitest/vitest.mjs'),
      'run',
      '--config',
      'test/api/runners/vitest.config.ts',
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${report}`,
    ]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /Tests\s+1 passed \(1\)/, r.out);
    const json = JSON.parse(await readFile(report, 'utf8')) as Report;
    assert.deepEqual([json.numTotalTests, json.numPassedTests, json.numFailedTests], [1, 1, 0]);
    t.diagnostic(`vitest took ${r.ms} ms`);
  } finally {
    await tmp.cleanup();
  }
});

test('Jest (ESM) runs a test that replays a conversation through `directline-vcr`', async (t) => {
  await ensureDistIsCurrent();
  const tmp = await tempDir();
  try {
    const report = tmp.file('jest.json');
    const r = await node([
      '--experimental-vm-modules',
      bin('jest/bin/jest.js'),
      '--config',
      'test/api/runners/jest.config.mjs',
      '--json',
      `--outputFile=${report}`,
    ]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /Tests:\s+1 passed, 1 total/, r.out);
    const json = JSON.parse(await readFile(report, 'utf8')) as Report;
    assert.deepEqual([json.numTotalTests, json.numPassedTests, json.numFailedTests], [1, 1, 0]);
    t.diagnostic(`jest took ${r.ms} ms`);
  } finally {
    await tmp.cleanup();
  }
});
