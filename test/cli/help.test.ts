// Every command answers --help with its own options; an unknown command is refused with a non-zero exit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

const COMMANDS: Record<string, string[]> = {
  record: ['--upstream', '--cassette', '--mode', '--port', '--host', '--redact-header'],
  replay: ['--cassette', '--speed', '--match', '--port', '--host'],
  inspect: ['--conversation', '--type', '--json'],
  export: ['--format', '--output'],
  scan: ['--pattern', '--json'],
  diff: ['--ignore', '--timing', '--text', '--json', '--junit'],
  verify: ['--upstream', '--settle', '--out', '--update', '--text'],
  import: ['--from', '--output', '--max-gap'],
};

test('top-level --help lists every command', async () => {
  const { code, stdout } = await cli(['--help']);
  assert.equal(code, 0);
  for (const name of Object.keys(COMMANDS)) assert.match(stdout, new RegExp(`directline-vcr ${name}`));
});

for (const [name, flags] of Object.entries(COMMANDS)) {
  test(`${name} --help shows its options`, async () => {
    const { code, stdout } = await cli([name, '--help']);
    assert.equal(code, 0);
    for (const f of flags) assert.ok(stdout.includes(f), `${name} --help mentions ${f}`);
  });
}

test('an unknown command or a missing required option exits non-zero with a message', async () => {
  const unknown = await cli(['recrod']);
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /Did you mean record|Unknown argument/);
  const missing = await cli(['replay']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /cassette/);
});
