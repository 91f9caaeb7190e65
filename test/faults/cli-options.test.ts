// Where fault rules come from besides the API: the config file's "faults"/"seed" (checked like every other key)
// and --fault/--seed, which add to and win over them. The replay CLI takes the config file's rules, refuses a
// bad rule before it listens (exit 2, naming the rule), and counts what it injected in its stop summary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ConfigError, parseConfig } from '../../src/config/config.js';
import { faultsFromArgs } from '../../src/faults/cli-options.js';
import { eventually, within } from '../support/async.js';
import { tempDir } from '../support/fs.js';
import { call } from '../support/http.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');
const DEMO = fileURLToPath(new URL('../../recordings/demo.json', import.meta.url));

test('config "faults" and "seed": parsed and checked; flags add rules after the file\'s and their seed wins', () => {
  const config = parseConfig({ faults: ['drop-stream@frame=3'], seed: 7 }, 'my.json');
  assert.deepEqual(config.faults, { faults: ['drop-stream@frame=3'], seed: 7 });
  assert.deepEqual(parseConfig({}, 'empty.json').faults, { faults: [] });
  assert.deepEqual(faultsFromArgs({ fault: ['latency=10ms@frames'], seed: undefined }, config), {
    faults: ['drop-stream@frame=3', 'latency=10ms@frames'],
    seed: 7,
  });
  assert.deepEqual(faultsFromArgs({ fault: [], seed: 3 }, config).seed, 3);
  assert.deepEqual(faultsFromArgs({ fault: ['status=500@route=upload'], seed: undefined }, null), {
    faults: ['status=500@route=upload'],
    seed: undefined,
  });
  assert.throws(
    () => parseConfig({ faults: ['drop-stream@frame=3', 'status=429@route=activity.post'] }, 'my.json'),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.key, 'faults[1]');
      assert.match(err.message, /^my\.json: faults\[1\]: fault rule "status=429@route=activity\.post": unknown route "activity\.post"/);
      return true;
    },
  );
  assert.throws(
    () => parseConfig({ seed: 1.5 }, 'my.json'),
    (err: unknown) => err instanceof ConfigError && err.key === 'seed',
  );
});

function replay(cwd: string, args: string[]) {
  const child = spawn(
    process.execPath,
    ['--import', TSX, MAIN, 'replay', '--cassette', DEMO, '--port', '0', '--no-demo-page', '--log-level', 'info', ...args],
    { cwd, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exited };
}

test("replay CLI: a bad --fault exits 2 naming the rule; the config file's rules apply and the stop summary counts them", {
  timeout: 60_000,
}, async () => {
  const dir = await tempDir('dlvcr-faults-cli-');
  try {
    const bad = replay(dir.dir, ['--no-config', '--fault', 'drop-stream@frame=0']);
    assert.equal(await within(bad.exited, 'the refused start', 20_000), 2);
    assert.match(bad.err() + bad.out(), /fault rule \\?"drop-stream@frame=0\\?"/);

    await writeFile(dir.file('directline-vcr.config.json'), JSON.stringify({ faults: ['status=503@route=conversations.start,nth=1'] }));
    const cli = replay(dir.dir, []);
    try {
      const domain = await eventually(
        () => /domain = (\S+)/.exec(cli.out())?.[1],
        () => `the replay to listen (stdout: ${cli.out()} stderr: ${cli.err()})`,
        20_000,
      );
      const first = await call(domain, 'POST', '/conversations', { bearer: 'any' });
      assert.equal(first.status, 503, "the first start is faulted by the config file's rule");
      const second = await call(domain, 'POST', '/conversations', { bearer: 'any' });
      assert.equal(second.status, 201, 'the recorded start was not used up by the fault');
    } finally {
      cli.child.kill('SIGINT');
      await within(cli.exited, 'the replay to stop', 20_000);
    }
    assert.match(cli.out(), /replay summary: 1 conversation\(s\) served, 1 request\(s\) matched, 0 unmatched, 1 fault\(s\) injected/);
    assert.match(cli.out(), /fault: status=503@route=conversations\.start,nth=1 × 1/);
  } finally {
    await dir.cleanup();
  }
});
