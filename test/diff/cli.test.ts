// `directline-vcr diff` as a process: exit 0 same, 1 different (text, --json, --junit), 2 on an unreadable
// cassette or a bad --ignore; the config file's diff.ignore applies; colour only when asked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { XMLValidator } from 'fast-xml-parser';
import { tempDir } from '../support/fs.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DEMO = 'recordings/demo.json';

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'diff', ...args],
      { cwd: ROOT, timeout: 30_000, env: { ...process.env, NO_COLOR: '' } },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 99) : 0, stdout, stderr });
      },
    );
  });
}

test('diff CLI: exit codes, text, JSON, JUnit, colour and the config file', async () => {
  const tmp = await tempDir();
  try {
    const same = await cli([DEMO, DEMO, '--no-config']);
    assert.equal(same.code, 0, same.stderr);
    assert.match(same.stdout, /^same: 1 vs 1 conversation\(s\), 5 vs 5 turn\(s\)/m);

    // The demo with one bot text changed and its ids rewritten.
    const demo = JSON.parse(await readFile(DEMO, 'utf8'));
    const conv: string = demo.events[0].conversationId;
    let text = JSON.stringify(demo).split(conv).join('ZZZZdifferentconversation-eu');
    text = text.replace('Here is an Adaptive Card:', 'Here is a card:');
    await writeFile(tmp.file('b.json'), text);
    const diff = await cli([DEMO, tmp.file('b.json'), '--junit', tmp.file('j.xml'), '--no-config']);
    assert.equal(diff.code, 1, diff.stderr);
    assert.match(
      diff.stdout,
      /@@ conversation 1: 1 of 5 turn\(s\) differ @@\n {2}turn 2 "Show me a card":\n {2}- replies\[\d\]\.text: "Here is an Adaptive Card:/,
    );
    assert.doesNotMatch(diff.stdout, /\x1b\[/, 'no colour when stdout is not a terminal');
    assert.match((await cli([DEMO, tmp.file('b.json'), '--color', '--no-config'])).stdout, /\x1b\[31m- replies/);
    assert.equal(XMLValidator.validate(await readFile(tmp.file('j.xml'), 'utf8')), true);
    const json = JSON.parse((await cli([DEMO, tmp.file('b.json'), '--json', '--no-config'])).stdout);
    assert.equal(json.summary.turns.changed, 1);

    await writeFile(tmp.file('cfg.json'), JSON.stringify({ diff: { ignore: ['text'] } }));
    assert.equal((await cli([DEMO, tmp.file('b.json'), '--config', tmp.file('cfg.json')])).code, 0, 'diff.ignore from the config file');
    await writeFile(tmp.file('bad-cfg.json'), JSON.stringify({ diff: { ignore: ['a[b'] } }));
    const badCfg = await cli([DEMO, DEMO, '--config', tmp.file('bad-cfg.json')]);
    assert.equal(badCfg.code, 2);
    assert.match(badCfg.stderr, /bad-cfg\.json: diff\.ignore\[0\]: not a valid JSON path/);

    await writeFile(tmp.file('broken.json'), '{"version": 1, "events": [');
    const broken = await cli([DEMO, tmp.file('broken.json'), '--no-config']);
    assert.equal(broken.code, 2);
    assert.match(broken.stderr, /broken\.json: not valid JSON/);
    const badPath = await cli([DEMO, DEMO, '--ignore', '$', '--no-config']);
    assert.equal(badPath.code, 2);
    assert.match(badPath.stderr, /selects the whole body/);
  } finally {
    await tmp.cleanup();
  }
});
