// `directline-vcr record` with a config file: found in the current directory or named by --config, its
// options used, the --redact-* flags added to its rules; a broken file stops the start with exit 2 and a
// message naming the file and the key; --no-config ignores the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '../emulator/index.js';
import { eventually, within } from '../support/async.js';
import { tempDir } from '../support/fs.js';
import { call } from '../support/http.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const TSX = import.meta.resolve('tsx'); // the cwd is a temp folder, so tsx is named by its URL

interface Cli {
  child: ChildProcess;
  /** stdout + stderr, log lines (JSON) as their messages. */
  output: () => string;
  exited: Promise<number | null>;
  /** Resolves with the printed domain, rejects when the process exits first. */
  domain: Promise<string>;
}

function record(cwd: string, args: string[]): Cli {
  const child = spawn(process.execPath, ['--import', TSX, MAIN, 'record', '--log-level', 'info', '--no-demo-page', ...args], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  // 'close': the process has exited and its output has all been read.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const domain = within(
    new Promise<string>((resolve, reject) => {
      const check = setInterval(() => {
        const m = /domain = (http:\/\/\S+)/.exec(out);
        if (m) {
          clearInterval(check);
          resolve(m[1]!);
        }
      }, 10);
      void exited.then((code) => {
        clearInterval(check);
        reject(new Error(`exited with ${code} before printing the domain:\n${out}`));
      });
    }),
    'the recorder to print its domain',
    15_000,
  );
  domain.catch(() => {});
  const output = () =>
    out
      .split('\n')
      .map((line) => {
        try {
          return (JSON.parse(line) as { msg: string }).msg;
        } catch {
          return line;
        }
      })
      .join('\n');
  return { child, output, exited, domain };
}

test('record finds ./directline-vcr.config.json, uses its upstream/port and rules, and --redact-pattern adds one', async () => {
  const tmp = await tempDir();
  const emu = await startEmulator({
    basePath: '/custom/dl',
    bot: {
      reply: (a) =>
        a.type === 'message'
          ? [{ type: 'message', text: 'code vault-7f3a9c1e5b, key ACME-KEY-31337', channelData: { secretThing: 'vault-7f3a9c1e5b' } }]
          : [],
    },
  });
  let cli: Cli | undefined;
  try {
    await writeFile(
      tmp.file('directline-vcr.config.json'),
      JSON.stringify({ upstream: emu.domain, port: 0, redact: { jsonPaths: ['..channelData.secretThing'] } }),
    );
    cli = record(tmp.dir, ['--cassette', 'out.json', '--redact-pattern', 'ACME-KEY-\\d+']);
    const domain = await cli.domain;
    assert.match(domain, /^http:\/\/127\.0\.0\.1:\d+\/custom\/dl$/, 'the upstream (its path) and port 0 came from the file');
    assert.match(
      cli.output(),
      /using the config file .*directline-vcr\.config\.json \(found in the current directory; --no-config ignores it\)/,
    );
    const start = await call(domain, 'POST', '/conversations', { bearer: emu.secret });
    const id: string = start.json.conversationId;
    await call(domain, 'POST', `/conversations/${id}/activities`, {
      bearer: start.json.token,
      body: { type: 'message', from: { id: 'u' }, text: 'hi' },
    });
    await eventually(async () => {
      const page = await call(domain, 'GET', `/conversations/${id}/activities?watermark=`, { bearer: start.json.token });
      return page.json.activities.some((a: any) => a.text?.startsWith('code vault-'));
    }, 'the reply');
    cli.child.kill('SIGTERM');
    assert.equal(await within(cli.exited, 'the recorder to exit', 10_000), 0);
    const text = await readFile(tmp.file('out.json'), 'utf8');
    assert.ok(!text.includes('vault-7f3a9c1e5b'), 'the config file rule applied');
    assert.ok(!text.includes('ACME-KEY-31337'), 'the command-line rule applied');
    assert.match(text, /"text":"code DLVCR_CUSTOM_1, key DLVCR_CUSTOM_2"/);
  } finally {
    cli?.child.kill('SIGKILL');
    await emu.close();
    await tmp.cleanup();
  }
});

test('a broken config file stops record with exit 2 naming the file and the key; --no-config ignores it', async () => {
  const tmp = await tempDir();
  const emu = await startEmulator({});
  let cli: Cli | undefined;
  try {
    const found = tmp.file('directline-vcr.config.json');
    await writeFile(found, JSON.stringify({ redact: { jsonPaths: ['activities[x].secret'] } }));
    cli = record(tmp.dir, ['--cassette', 'out.json', '--upstream', emu.domain, '--port', '0']);
    assert.equal(await within(cli.exited, 'the recorder to exit', 15_000), 2);
    assert.ok(cli.output().includes(`cannot use the config file: ${found}: redact.jsonPaths[0]: not a valid JSON path`), cli.output());
    assert.ok(!existsSync(tmp.file('out.json')), 'nothing was written');

    const named = tmp.file('named.json');
    await writeFile(named, '{ "port": 0, }');
    cli = record(tmp.dir, ['--config', named, '--cassette', 'out.json']);
    assert.equal(await within(cli.exited, 'the recorder to exit', 15_000), 2);
    assert.ok(cli.output().includes(`${named}: not valid JSON`), cli.output());

    cli = record(tmp.dir, ['--no-config', '--cassette', 'out.json', '--redact-json-path', '$.[0]']);
    assert.equal(await within(cli.exited, 'the recorder to exit', 15_000), 2, 'a bad --redact-json-path is refused too');
    assert.match(cli.output(), /JSON path "\$\.\[0\]": a "\." before "\["/);

    cli = record(tmp.dir, ['--no-config', '--cassette', 'out.json', '--upstream', emu.domain, '--port', '0']);
    await cli.domain;
    assert.doesNotMatch(cli.output(), /config file/);
    cli.child.kill('SIGTERM');
    assert.equal(await within(cli.exited, 'the recorder to exit', 10_000), 0);
  } finally {
    cli?.child.kill('SIGKILL');
    await emu.close();
    await tmp.cleanup();
  }
});
