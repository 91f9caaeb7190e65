// `directline-vcr import` as a person runs it: a script, a .chat file and a transcript become cassettes that
// `inspect` reads; bad input exits 2 with the file, the line and what was expected, and writes no cassette
// (an existing one is left as it was).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadCassette } from '../../src/cassette/load.js';
import { inputFolder } from '../import/fixtures.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** tsx by URL: the CLI runs in the input's folder, where `--import tsx` would not resolve. */
const TSX = import.meta.resolve('tsx');

/** Runs the CLI; `said` is what it logged (pino writes JSON lines when not on a terminal), one message a line. */
function cli(args: string[], cwd = ROOT): Promise<{ code: number; stdout: string; stderr: string; said: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=dlvcr-source', '--import', TSX, `${ROOT}/src/cli/main.ts`, ...args],
      { cwd, timeout: 30_000 },
      (err, stdout, stderr) => {
        const said = (stdout + stderr)
          .split('\n')
          .map((l) => {
            try {
              return (JSON.parse(l) as { msg?: string }).msg ?? l;
            } catch {
              return l;
            }
          })
          .join('\n');
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr, said });
      },
    );
  });
}

test('import writes a cassette inspect reads, for each format; the format comes from the extension or --from', async () => {
  const folder = await inputFolder();
  try {
    folder.withDemoAssets();
    folder.write('talk.yaml', 'turns:\n  - bot: { text: Hi, image: picture.png }\n  - user: Hello\n  - bot: Bye\n');
    folder.write('talk.chat', 'user: Hello\nbot: [Typing] Hi! [Attachment=card.json adaptivecard]\n');
    folder.write(
      'talk.txt',
      JSON.stringify([
        { type: 'message', text: 'Hello', from: { id: 'u', role: 'user' } },
        { type: 'message', text: 'Hi', from: { id: 'b', role: 'bot' } },
      ]),
    );
    for (const [input, extra, from] of [
      ['talk.yaml', [], 'script'],
      ['talk.chat', [], 'chat'],
      ['talk.txt', ['--from', 'transcript'], 'transcript'],
    ] as const) {
      const r = await cli(['import', input, '-o', 'out.json', ...extra], folder.dir);
      assert.equal(r.code, 0, r.stderr);
      const c = await loadCassette(folder.file('out.json'));
      assert.deepEqual(c.source, { kind: 'import', from, file: input });
      const inspected = await cli(['inspect', 'out.json', '--type', 'message', '--json'], folder.dir);
      assert.equal(inspected.code, 0, inspected.stderr);
      assert.match(inspected.stdout, /"Hello"/);
    }
  } finally {
    await folder.cleanup();
  }
});

test('bad input exits 2 naming the file and the line, and writes no cassette', async () => {
  const folder = await inputFolder();
  try {
    folder.write('keep.json', 'an existing cassette');
    const cases: Array<[string, string, RegExp]> = [
      ['bad.chat', 'user: hi\nbot: [Attachment=missing.png]\n', /bad\.chat:2: attachment file "missing\.png" not found/],
      ['bad.yaml', 'turns:\n  - bot:\n      txt: hi\n', /bad\.yaml:3: turns\[0\]\.bot\.txt: unknown key "txt"/],
      ['bad.transcript', '[\n  {"type": "message"\n]', /bad\.transcript:3: not valid JSON/],
      ['bad.docx', 'x', /bad\.docx: cannot tell the format from the extension "\.docx"/],
    ];
    for (const [name, text, expected] of cases) {
      folder.write(name, text);
      const fresh = await cli(['import', name, '-o', 'new.json'], folder.dir);
      assert.equal(fresh.code, 2, fresh.stderr);
      assert.match(fresh.said, expected);
      assert.match(fresh.said, /no cassette written/);
      assert.equal(existsSync(folder.file('new.json')), false);
      const over = await cli(['import', name, '-o', 'keep.json'], folder.dir);
      assert.equal(over.code, 2);
      assert.equal(readFileSync(folder.file('keep.json'), 'utf8'), 'an existing cassette');
    }
    const gap = await cli(['import', 'x.transcript', '-o', 'x.json', '--max-gap', '-5'], folder.dir);
    assert.notEqual(gap.code, 0);
    assert.match(gap.stderr, /--max-gap must be a number of milliseconds ≥ 0/);
  } finally {
    await folder.cleanup();
  }
});

test('the shipped demo script imports to the shipped cassette (but for the import time)', async () => {
  const folder = await inputFolder();
  try {
    const r = await cli(['import', 'recordings/demo/demo.yaml', '-o', folder.file('demo.json')]);
    assert.equal(r.code, 0, r.stderr);
    // createdAt and the activity timestamps derived from it are the time of the import.
    const timeless = (file: string) =>
      JSON.parse(
        readFileSync(file, 'utf8')
          .replace(/"(createdAt|timestamp)":"[^"]*"/g, '"$1":null')
          .replace(/"createdAt": "[^"]*"/, '"createdAt":null'),
      );
    assert.deepEqual(timeless(folder.file('demo.json')), timeless(`${ROOT}/recordings/demo.json`));
  } finally {
    await folder.cleanup();
  }
});
