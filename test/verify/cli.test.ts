// `directline-vcr verify` as a process: exit 0/1/2, --update only on difference, JUnit with one failing
// case per changed turn, and no secret or token in anything it prints or writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { XMLParser } from 'fast-xml-parser';
import { startEmulator, changedBot, type BotChanges, type Emulator } from '../emulator/index.js';
import { recordConversation } from '../support/conversation-recording.js';
import { tempDir } from '../support/fs.js';
import { loadCassette } from '../../src/cassette/load.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SECRET = 'verify-cli-secret-5b1d0e7a9c';

function cli(args: string[], env: Record<string, string | undefined>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const childEnv: NodeJS.ProcessEnv = {
      ...process.env,
      NO_COLOR: '1',
      DIRECTLINE_SECRET: undefined,
      DIRECTLINE_TOKEN: undefined,
      ...env,
    };
    for (const k of Object.keys(childEnv)) if (childEnv[k] === undefined) delete childEnv[k];
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'verify', ...args],
      { cwd: ROOT, timeout: 60_000, env: childEnv },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 99) : 0, stdout, stderr });
      },
    );
  });
}

async function withBot<T>(changes: BotChanges, fn: (emu: Emulator) => Promise<T>): Promise<T> {
  const emu = await startEmulator({ secret: SECRET, bot: changedBot(changes) });
  try {
    return await fn(emu);
  } finally {
    await emu.close();
  }
}

test('verify CLI: exit 0 unchanged, 1 with a JUnit case per changed turn; --update writes only on change; no secret anywhere', async () => {
  const tmp = await tempDir();
  try {
    const cassette = tmp.file('rec.json');
    const issued: string[] = [];
    await withBot({}, async (emu) => {
      await recordConversation({
        upstream: emu.domain,
        secret: emu.secret,
        cassette,
        transport: 'stream',
        turns: ['hello', 'how are you', 'bye'],
      });
      issued.push(...emu.issuedTokens());
    });
    const original = await readFile(cassette, 'utf8');
    const before = await stat(cassette);

    // Unchanged bot, with --update: nothing differs, so nothing is rewritten.
    const same = await withBot({}, async (emu) => {
      const r = await cli(
        [cassette, '--upstream', emu.domain, '--settle', '800', '--update', '--junit', tmp.file('same.xml'), '--log-level', 'debug'],
        { DIRECTLINE_SECRET: SECRET },
      );
      issued.push(...emu.issuedTokens());
      return r;
    });
    assert.equal(same.code, 0, same.stderr);
    assert.match(same.stdout, /^same: 1 vs 1 conversation\(s\), 4 vs 4 turn\(s\)/m);
    assert.equal(await readFile(cassette, 'utf8'), original, '--update leaves an unchanged recording alone');
    assert.equal((await stat(cassette)).mtimeMs, before.mtimeMs);

    // Two turns changed: exit 1; JUnit has one failing case for each; --json the structured diff.
    const changes: BotChanges = { replies: { hello: [{ text: 'Hi!' }], bye: [{ type: 'typing' }, { text: 'See you', delayMs: 50 }] } };
    const junitFile = tmp.file('drift.xml');
    const diff = await withBot(changes, async (emu) => {
      const r = await cli(
        [
          cassette,
          '--upstream',
          emu.domain,
          '--settle',
          '800',
          '--json',
          '--junit',
          junitFile,
          '--out',
          tmp.file('new.json'),
          '--log-level',
          'debug',
        ],
        { DIRECTLINE_SECRET: SECRET },
      );
      issued.push(...emu.issuedTokens());
      return r;
    });
    assert.equal(diff.code, 1, diff.stderr);
    const json = JSON.parse(diff.stdout);
    assert.equal(json.equal, false);
    assert.deepEqual(
      json.conversations[0].turns.filter((t: any) => t.verdict !== 'same').map((t: any) => t.label),
      ['turn 1 "hello"', 'turn 3 "bye"'],
    );
    const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(await readFile(junitFile, 'utf8'));
    const cases: any[] = [xml.testsuites.testsuite.testcase].flat();
    assert.equal(cases.length, 4, 'one case per turn');
    assert.deepEqual(
      cases.filter((c) => c.failure).map((c) => c.name),
      ['turn 1 "hello"', 'turn 3 "bye"'],
    );
    assert.equal(xml.testsuites.failures, '2');
    assert.equal(await readFile(cassette, 'utf8'), original, 'without --update the cassette stays');
    assert.match(await readFile(tmp.file('new.json'), 'utf8'), /"See you"/, '--out keeps the new recording');

    // --update with a difference: the cassette becomes the new recording.
    const updated = await withBot(changes, async (emu) => {
      const r = await cli([cassette, '--upstream', emu.domain, '--settle', '800', '--update'], { DIRECTLINE_SECRET: SECRET });
      issued.push(...emu.issuedTokens());
      return r;
    });
    assert.equal(updated.code, 1, updated.stderr);
    assert.match(updated.stderr, /updated .*rec\.json/);
    const rewritten = await loadCassette(cassette);
    assert.match(JSON.stringify(rewritten), /"See you"/);
    assert.doesNotMatch(JSON.stringify(rewritten), /You said: bye/);

    // No secret or issued token in any output or file (the redaction tests' check, on verify's outputs).
    const outputs = [
      same.stdout,
      same.stderr,
      diff.stdout,
      diff.stderr,
      updated.stdout,
      updated.stderr,
      await readFile(junitFile, 'utf8'),
      await readFile(tmp.file('same.xml'), 'utf8'),
      await readFile(tmp.file('new.json'), 'utf8'),
      await readFile(cassette, 'utf8'),
    ];
    assert.ok(same.stderr.length + diff.stderr.length > 1000, 'debug logs were produced and checked');
    assert.ok(issued.length >= 8, 'tokens were issued in every run');
    for (const [i, secret] of [SECRET, ...issued].entries()) {
      for (const [j, out] of outputs.entries()) {
        assert.ok(!out.includes(secret), `secret #${i} is in output #${j}`);
        assert.ok(!out.includes(secret.slice(-24)), `the end of secret #${i} is in output #${j}`);
      }
    }
  } finally {
    await tmp.cleanup();
  }
});

test('verify CLI: exit 2 on an unreadable cassette, no credentials or bad --ignore; the secret may come from the config file', async () => {
  const tmp = await tempDir();
  try {
    const missing = await cli([tmp.file('nope.json')], { DIRECTLINE_SECRET: SECRET });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nope\.json: cannot read the cassette \(ENOENT\)/);

    const cassette = tmp.file('rec.json');
    await withBot({}, (emu) =>
      recordConversation({ upstream: emu.domain, secret: emu.secret, cassette, transport: 'polling', turns: ['hello'] }),
    );
    const noCred = await cli([cassette, '--upstream', 'http://127.0.0.1:9/v3/directline', '--no-config'], {});
    assert.equal(noCred.code, 2);
    assert.match(noCred.stderr, /DIRECTLINE_SECRET \(or DIRECTLINE_TOKEN\)/);

    const badIgnore = await cli([cassette, '--ignore', 'a..[', '--no-config'], { DIRECTLINE_SECRET: SECRET });
    assert.equal(badIgnore.code, 2);
    assert.match(badIgnore.stderr, /bad --ignore: JSON path .*a\.\.\[/);

    const config = tmp.file('dlvcr.json');
    await writeFile(config, JSON.stringify({ verify: { secret: SECRET, settle: 800 }, diff: { ignore: ['text'] } }));
    const fromConfig = await withBot({ replies: { hello: [{ text: 'Other words' }] } }, (emu) =>
      cli([cassette, '--upstream', emu.domain, '--config', config], {}),
    );
    assert.equal(
      fromConfig.code,
      0,
      `the config's secret opened the conversation and its ignore path hid the text: ${fromConfig.stdout}${fromConfig.stderr}`,
    );
    assert.ok(!fromConfig.stdout.includes(SECRET) && !fromConfig.stderr.includes(SECRET));
  } finally {
    await tmp.cleanup();
  }
});
