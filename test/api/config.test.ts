// Redaction rules from a config file: a recording through the recorder against the emulator keeps the
// custom secrets out of the cassette (stable DLVCR_CUSTOM_n placeholders instead), a broken file is an
// error naming the file and the key, and `scan` with a custom pattern finds what a missing rule let through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { startEmulator, type BotScript } from '../emulator/index.js';
import { StreamClient } from '../record/helpers.js';
import {
  ConfigError,
  loadConfig,
  parseConfig,
  loadCassette,
  scanCassetteFile,
  startRecorder,
  type HttpEvent,
  type WsMessageEvent,
} from 'directline-vcr';
import { tempDir } from '../support/fs.js';
import { call } from '../support/http.js';

const SECRET = 'vault-7f3a9c1e5b'; // in the bot's reply: channelData.secretThing and the text
const PASSWORD = 'hunter2-correct-horse'; // posted by the user in value.password
const ORDER = 'ORDER-482913'; // in the user's text, caught by a pattern
const LEFTOVER = 'ACME-KEY-31337'; // in the bot's text; no rule covers it

const bot: BotScript = {
  reply: (a) =>
    a.type === 'message'
      ? [
          {
            type: 'message',
            text: `Your vault code is ${SECRET}; key ${LEFTOVER}`,
            channelData: { secretThing: SECRET, keep: 'visible' },
            delayMs: 10,
          },
        ]
      : [],
};

const PLACEHOLDER = /^DLVCR_CUSTOM_\d+$/;

test('config file rules: custom secrets recorded as stable DLVCR_CUSTOM_n placeholders; scan finds what none covered', async () => {
  const tmp = await tempDir();
  const emu = await startEmulator({ bot });
  try {
    const configFile = tmp.file('directline-vcr.config.json');
    await writeFile(
      configFile,
      JSON.stringify(
        {
          upstream: emu.domain,
          port: 0,
          flushInterval: 20,
          // `..value.password`: the posted activity ($.value.password) and its echo (activities[*].value.password).
          redact: { jsonPaths: ['activities[*].channelData.secretThing', '..value.password'], patterns: ['ORDER-\\d{6}'] },
        },
        null,
        2,
      ),
    );
    const config = await loadConfig(configFile);
    assert.equal(config.file, configFile);
    assert.deepEqual(config.record.redact.jsonPaths, ['activities[*].channelData.secretThing', '..value.password']);
    const cassette = tmp.file('cassette.json');
    const rec = await startRecorder({ ...config.record, cassette });
    let texts: string[] = [];
    try {
      const start = await call(rec.domain, 'POST', '/conversations', { bearer: emu.secret });
      assert.equal(start.status, 201);
      const id: string = start.json.conversationId;
      const stream = await StreamClient.open(start.json.streamUrl);
      await stream.waitForText('Welcome to the emulator bot!');
      const posted = await call(rec.domain, 'POST', `/conversations/${id}/activities`, {
        bearer: start.json.token,
        body: { type: 'message', from: { id: 'dl_user' }, text: `my order is ${ORDER}`, value: { password: PASSWORD, note: 'kept' } },
      });
      assert.equal(posted.status, 200);
      const reply = `Your vault code is ${SECRET}; key ${LEFTOVER}`;
      await stream.waitForText(reply);
      // The client gets the real values: only the cassette is redacted.
      const polled = await call(rec.domain, 'GET', `/conversations/${id}/activities?watermark=`, { bearer: start.json.token });
      texts = polled.json.activities.map((a: any) => a.text);
      assert.ok(texts.includes(reply));
      await stream.close();
    } finally {
      await rec.close();
    }

    const text = await readFile(cassette, 'utf8');
    for (const secret of [SECRET, PASSWORD, ORDER]) assert.ok(!text.includes(secret), `${secret} is in the cassette`);
    assert.ok(text.includes(LEFTOVER), 'no rule covers the leftover, so it is still there');

    const c = await loadCassette(cassette);
    const http = c.events.filter((e): e is HttpEvent => e.type === 'http');
    const post = http.find((e) => e.route === 'activities.post')!;
    const sent = (post.request.body as { json: any }).json;
    const pw = sent.value.password as string;
    assert.match(pw, PLACEHOLDER);
    assert.equal(sent.value.note, 'kept');
    const orderPh = /^my order is (DLVCR_CUSTOM_\d+)$/.exec(sent.text)?.[1];
    assert.ok(orderPh, `the order number in the text is a placeholder: ${sent.text}`);

    // The reply, as the stream carried it and as the poll answered it: one placeholder for the secret,
    // in channelData (the JSON path) and in the text (the same value, learnt from the path).
    const frames = c.events
      .filter((e): e is WsMessageEvent => e.type === 'ws.message' && e.from === 'server' && 'json' in e.data)
      .flatMap((e) => ((e.data as { json: any }).json.activities ?? []) as any[]);
    const polledActivities = (http.find((e) => e.route === 'activities.get')!.response!.body as { json: any }).json.activities as any[];
    const replies = [...frames, ...polledActivities].filter((a) => a.channelData?.secretThing !== undefined);
    assert.equal(replies.length, 2, 'the reply on the stream and in the poll');
    const secretPh = replies[0].channelData.secretThing as string;
    assert.match(secretPh, PLACEHOLDER);
    for (const a of replies) {
      assert.equal(a.channelData.secretThing, secretPh);
      assert.equal(a.channelData.keep, 'visible');
      assert.equal(a.text, `Your vault code is ${secretPh}; key ${LEFTOVER}`);
    }
    // The echo of the user's message on the stream holds the password too.
    const echo = frames.find((a) => a.value?.password !== undefined);
    assert.equal(echo?.value.password, pw);
    assert.equal(new Set([pw, orderPh, secretPh]).size, 3, 'distinct values, distinct placeholders');
    for (const p of [pw, orderPh, secretPh]) assert.equal(c.redaction.placeholders[p], 'custom');

    // scan: a custom pattern finds the value no rule covered (on the stream and in the poll), and nothing
    // the rules replaced.
    const findings = await scanCassetteFile(cassette, { patterns: [/ACME-KEY-\d+/, /vault-[0-9a-f]{10}/, /ORDER-\d{6}/] });
    const custom = findings.filter((f) => f.kind === 'custom');
    assert.equal(custom.length, 2, JSON.stringify(findings));
    for (const f of custom) {
      assert.equal(f.file, cassette);
      assert.match(f.path, /^events\[\d+\]\..*text$/);
      assert.ok(!f.excerpt.includes(LEFTOVER), 'a finding never shows the whole value');
    }
    assert.deepEqual(
      findings.filter((f) => f.kind !== 'custom'),
      [],
      'nothing else looks like a secret',
    );
  } finally {
    await emu.close();
    await tmp.cleanup();
  }
});

test('a broken config file is an error that names the file and the key', async () => {
  const tmp = await tempDir();
  try {
    const cases: Array<{ name: string; content: string; key: string | null; problem: RegExp }> = [
      { name: 'not-json.json', content: '{ "redact": { "patterns": [ } }', key: null, problem: /not valid JSON/ },
      { name: 'array.json', content: '[]', key: null, problem: /expected a JSON object/ },
      { name: 'typo.json', content: '{ "redcat": { "headers": ["x-key"] } }', key: 'redcat', problem: /unknown key \(known: .*redact/ },
      {
        name: 'typo-inside.json',
        content: '{ "redact": { "jsonpath": ["$.a"] } }',
        key: 'redact.jsonpath',
        problem: /unknown key \(known: headers, jsonKeys, jsonPaths, patterns\)/,
      },
      {
        name: 'path.json',
        content: '{ "redact": { "jsonPaths": ["$.ok", "activities[x].secret"] } }',
        key: 'redact.jsonPaths[1]',
        problem: /not a valid JSON path: expected \[\*\], \[number\] or \["name"\]/,
      },
      {
        name: 'regex.json',
        content: '{ "redact": { "patterns": ["(unclosed"] } }',
        key: 'redact.patterns[0]',
        problem: /not a valid regular expression/,
      },
      {
        name: 'flags.json',
        content: '{ "redact": { "patterns": [{ "source": "x", "flags": "q" }] } }',
        key: 'redact.patterns[0]',
        problem: /not a valid regular expression/,
      },
      {
        name: 'types.json',
        content: '{ "port": "4978", "mode": "replay", "upstream": "ftp://example" }',
        key: 'upstream',
        problem: /not an http:\/\/ or https:\/\/ URL.*port: .*expected number.*mode: /s,
      },
    ];
    for (const c of cases) {
      const file = tmp.file(c.name);
      await writeFile(file, c.content);
      await assert.rejects(loadConfig(file), (err: any) => {
        assert.ok(err instanceof ConfigError, `${c.name}: ${String(err)}`);
        assert.equal(err.file, file);
        assert.equal(err.key, c.key, `${c.name}: ${err.message}`);
        assert.match(err.problem, c.problem, c.name);
        assert.ok(err.message.startsWith(`${file}: ${c.key ? `${c.key}: ` : ''}`), err.message);
        return true;
      });
    }
    await assert.rejects(
      loadConfig(tmp.file('missing.json')),
      (err: any) =>
        err instanceof ConfigError &&
        /cannot read the config file \(ENOENT\)/.test(err.message) &&
        err.message.startsWith(tmp.file('missing.json')),
    );
  } finally {
    await tmp.cleanup();
  }
});

test('an empty config is valid, and pattern flags are honoured', async () => {
  const tmp = await tempDir();
  try {
    const file = tmp.file('c.json');
    await writeFile(file, '{}');
    assert.deepEqual((await loadConfig(file)).record, { redact: {} });
    await writeFile(
      file,
      JSON.stringify({
        $schema: 'x',
        mode: 'auto',
        host: '::1',
        redact: { headers: ['X-Api-Key'], jsonKeys: ['pin'], patterns: ['a\\d', { source: 'secret-[a-z]+', flags: 'i' }] },
      }),
    );
    const c = await loadConfig(file);
    assert.equal(c.mode, 'auto');
    assert.equal(c.record.host, '::1');
    assert.deepEqual(c.record.redact.patterns!.map(String), ['/a\\d/', '/secret-[a-z]+/i']);
  } finally {
    await tmp.cleanup();
  }
});

test("the README's example config file is valid", () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const block = /`--config <file>`[\s\S]*?```json\n([\s\S]*?)```/.exec(readme);
  assert.ok(block, 'README shows a config file under --config');
  const c = parseConfig(JSON.parse(block[1]!.replace(/^ {2}/gm, '')), 'README.md');
  assert.equal(c.mode, 'record');
  assert.equal(c.record.redact.jsonPaths?.length, 2);
  assert.deepEqual(c.record.redact.patterns?.map(String), ['/ORDER-\\d{6}/', '/acme-[a-z0-9]+/i']);
});
