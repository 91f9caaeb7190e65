import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { stringifyCassette } from '../../src/cassette/serialize.js';
import type { Cassette, HttpEvent, WsMessageEvent, WsOpenEvent } from '../../src/cassette/schema.js';
import { formatFindings, scanCassetteFile, scanFiles, scanText, scanValue, type Finding } from '../../src/scan/scan.js';
import { WS_CONV, scenario } from '../inspect/fixtures.js';
import { tempDir } from '../support/fs.js';

// Shapes as they appear in the wild; none of these is a real credential.
const DL_SECRET = 'abcDEF123.ghiJKL456-mnoPQR789_stuVWX012yzaBCD345efG';
const DL_SECRET_OLD = 'RCurR_XV9ZA.cwA.BKA.iaJrC8xpy8qbOF5xnR2vtCX7CZj0LdjAPGfiCpg4Fv0';
const JWT = [
  'eyJhbGciOiJSUzI1NiIsImtpZCI6IngiLCJ0eXAiOiJKV1QifQ',
  'eyJib3QiOiJteWJvdCIsInNpdGUiOiJhYmMiLCJjb252IjoiQWJDIn0',
  'c2lnbmF0dXJlLW5vdC1yZWFsLWF0LWFsbC0wMTIzNDU2Nzg5',
].join('.');
const OPAQUE = 'opaque-token-Value-0123456789';
const STREAM_T = 'st-Opaque-987654321-abcdef';
const ATTACH_T = 'att-Opaque-111222333-xyz';
const PASSWORD = 'hunter2hunter2';
const CUSTOM = 'ACME-123456';

interface Planted {
  cassette: Cassette;
  expect: Array<{ path: string; kind: Finding['kind']; secret: string }>;
}

/** The scenario with one secret of each kind planted where a leak would put it. */
function planted(): Planted {
  const c = scenario().raw();
  const idx = (pred: (e: Cassette['events'][number]) => boolean) => c.events.findIndex(pred);
  const httpAt = (i: number) => c.events[i] as HttpEvent;
  const expect: Planted['expect'] = [];

  // 1. an unredacted site secret as the bearer of conversation start
  const start = idx((e) => e.type === 'http' && e.route === 'conversations.start');
  httpAt(start).request.headers.authorization = `Bearer ${DL_SECRET}`;
  expect.push({ path: `events[${start}].request.headers.authorization`, kind: 'bearer', secret: DL_SECRET });
  // 2. a token (JWT) left in a response body, and a stream URL with its t=
  const body = httpAt(start).response!.body as { json: Record<string, unknown> };
  body.json.token = JWT;
  expect.push({ path: `events[${start}].response.body.json.token`, kind: 'jwt', secret: JWT });
  body.json.streamUrl = `wss://directline.botframework.com/v3/directline/conversations/${WS_CONV}/stream?watermark=-&t=${STREAM_T}`;
  expect.push({ path: `events[${start}].response.body.json.streamUrl`, kind: 'url-token', secret: STREAM_T });
  // 3. an opaque bearer (old-style token) on a poll
  const poll = idx((e) => e.type === 'http' && e.route === 'activities.get');
  httpAt(poll).request.headers.authorization = `Bearer ${OPAQUE}`;
  expect.push({ path: `events[${poll}].request.headers.authorization`, kind: 'bearer', secret: OPAQUE });
  // 4. the recorded query of a stream open
  const open = idx((e) => e.type === 'ws.open');
  (c.events[open] as WsOpenEvent).query.t = STREAM_T;
  expect.push({ path: `events[${open}].query.t`, kind: 'url-token', secret: STREAM_T });
  // 5. in stream frames: a token= attachment URL, a password in channelData, a pasted secret, a custom id
  const frame = idx((e) => e.type === 'ws.message' && 'json' in e.data && JSON.stringify(e.data.json).includes('burst 2/3'));
  const act = ((c.events[frame] as WsMessageEvent).data as { json: { activities: Array<Record<string, any>> } }).json.activities[0];
  act.attachments[0].contentUrl = `https://directline.botframework.com/attachments/x/0/chart.png?token=${ATTACH_T}`;
  expect.push({ path: `events[${frame}].data.json.activities[0].attachments[0].contentUrl`, kind: 'url-token', secret: ATTACH_T });
  act.channelData = { password: PASSWORD };
  expect.push({ path: `events[${frame}].data.json.activities[0].channelData.password`, kind: 'json-key', secret: PASSWORD });
  act.text = `my direct line key is ${DL_SECRET_OLD} and ticket ${CUSTOM}`;
  expect.push({ path: `events[${frame}].data.json.activities[0].text`, kind: 'directline-secret', secret: DL_SECRET_OLD });
  expect.push({ path: `events[${frame}].data.json.activities[0].text`, kind: 'custom', secret: CUSTOM });
  // 6. a frame kept as exact text (not compact JSON) with a secret key inside
  const welcome = idx((e) => e.type === 'ws.message' && 'json' in e.data);
  const w = c.events[welcome] as WsMessageEvent & { data: { json: unknown; text?: string } };
  w.data.text = JSON.stringify(w.data.json, null, 1).replace('"activities"', '"secret": "s3cr3t-from-bot",\n "activities"');
  expect.push({ path: `events[${welcome}].data.text`, kind: 'json-key', secret: 's3cr3t-from-bot' });
  // 7. a token used as a key (a map of sessions, say)
  (c.redaction.placeholders as Record<string, string>)[JWT] = 'token';
  expect.push({ path: `redaction.placeholders[${JSON.stringify(JWT)}]`, kind: 'jwt', secret: JWT });
  return { cassette: c, expect };
}

const PATTERNS = [/ACME-\d{6}/];

function check(findings: Finding[], expect: Planted['expect']) {
  for (const x of expect) {
    const f = findings.find((f) => f.path === x.path && f.kind === x.kind);
    assert.ok(f, `expected a ${x.kind} at ${x.path}; found:\n${formatFindings(findings)}`);
    assert.equal(f.excerpt, x.secret.slice(0, Math.min(4, Math.floor(x.secret.length / 4))) + '…');
    assert.ok(!f.excerpt.includes(x.secret));
  }
  assert.equal(findings.length, expect.length, `exactly the planted secrets:\n${formatFindings(findings)}`);
}

test('a clean cassette gives zero findings', () => {
  const c = scenario().build();
  assert.deepEqual(scanText(stringifyCassette(c), { patterns: PATTERNS }), []);
  assert.deepEqual(scanText(JSON.stringify(c, null, 2)), []);
  assert.deepEqual(scanValue(c), []);
});

test('look-alikes are not secrets: ids, timestamps, versions, host names, placeholders, user agents, base64', () => {
  const text = JSON.stringify({
    id: 'FBfSxYzAbCdEfGhIjKlMnO-us|0000003',
    timestamp: '2026-06-12T12:53:39.4222445Z',
    localTimestamp: '2026-06-12T14:53:39.422+02:00',
    referenceGrammarId: '2ea0374a-8a49-4f7e-a7c4-6b6a7c7f5c40',
    agent: 'DirectLine/3.0 (directlinejs; WebChat/4.18.1 (Full) 0.15.5)',
    ua: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
    host: 'https://unitedstates.directline.botframework.com/v3/directline/conversations',
    pkg: 'Microsoft.Bot.Builder.Dialogs.Adaptive.Templates 4.22.1',
    file: 'quarterly_report_for_the_board_2026.final.version.pdf',
    longWord: 'Supercalifragilistic.expialidociousAndSomeMoreLettersHere',
    streamUrl: 'wss://directline.botframework.com/v3/directline/conversations/X-us/stream?watermark=-&t=DLVCR_STREAMTOKEN_1',
    headers: { authorization: 'Bearer DLVCR_SECRET_1', cookie: 'DLVCR_CUSTOM_1' },
    token: 'DLVCR_TOKEN_2',
    tokenType: 'Bearer',
    password: '',
    secret: '[redacted]',
    query: { t: 'DLVCR_STREAMTOKEN_2', watermark: '-' },
    data: { base64: Buffer.from('x'.repeat(90) + '\u00ff\u00fe binary').toString('base64') },
    watermark: '0000a-42',
    expires_in: 3600,
  });
  assert.deepEqual(scanText(text), []);
});

test('a secret of each kind is found at its JSON path, with a masked excerpt and its line', async () => {
  const { cassette, expect } = planted();
  const text = stringifyCassette(cassette);
  const findings = scanText(text, { patterns: PATTERNS, file: 'c.json' });
  check(findings, expect);
  for (const f of findings) {
    assert.equal(f.file, 'c.json');
    const line = text.split('\n')[f.line! - 1];
    assert.ok(line.includes(f.excerpt.slice(0, -1)), `line ${f.line} holds the value`);
  }
  // the same through scanValue (no lines) and from a file
  check(scanValue(cassette, { patterns: PATTERNS }), expect);
  const tmp = await tempDir('dlvcr-scan-');
  try {
    const file = tmp.file('planted.json');
    await writeFile(file, text);
    const fromFile = await scanCassetteFile(file, { patterns: PATTERNS });
    check(fromFile, expect);
    assert.ok(fromFile.every((f) => f.file === file));
    const many = await scanFiles([file, tmp.file('missing.json')], { patterns: PATTERNS });
    assert.equal(many.findings.length, expect.length);
    assert.deepEqual(many.errors, [{ file: tmp.file('missing.json'), message: 'ENOENT' }]);
  } finally {
    await tmp.cleanup();
  }
});

test('custom patterns are only looked for when given', () => {
  const { cassette } = planted();
  const findings = scanText(JSON.stringify(cassette));
  assert.ok(!findings.some((f) => f.kind === 'custom'));
});

test('a cassette that does not validate is scanned all the same', () => {
  const { cassette, expect } = planted();
  const broken = { ...cassette, version: 99, events: cassette.events.map((e) => ({ ...e, t: -1 })) };
  check(scanText(JSON.stringify(broken), { patterns: PATTERNS }), expect);
});

test('a truncated cassette: paths up to the cut, plain-text scanning after it', () => {
  const { cassette } = planted();
  const text = stringifyCassette(cassette);
  // Cut inside a string that carries a secret (as a crash mid-write would), then garbage: everything before
  // the cut parses as JSON, the rest does not.
  const at = text.indexOf(ATTACH_T);
  const cutText = text.slice(0, at + ATTACH_T.length) + '\n    {"type":"http", "request": {"headers": {"authorization": "Bearer ' + OPAQUE;
  const findings = scanText(cutText, { patterns: PATTERNS });
  const start = cassette.events.findIndex((e) => e.type === 'http');
  assert.ok(findings.some((f) => f.path === `events[${start}].request.headers.authorization` && f.kind === 'bearer'));
  const tail = findings.filter((f) => f.path === '(text)');
  assert.ok(tail.some((f) => f.kind === 'url-token' && f.excerpt === 'att-…'));
  assert.ok(tail.some((f) => f.kind === 'bearer' && f.excerpt === 'opaq…'));
  const lastLine = cutText.split('\n').length;
  assert.ok(tail.some((f) => f.line === lastLine));
});

test('plain text (not JSON) is scanned too: logs, .env files', () => {
  const text = [
    'GET /v3/directline/conversations/abc/stream?watermark=-&t=' + STREAM_T + ' 101',
    'Authorization: Bearer ' + JWT,
    'DIRECT_LINE_SECRET=' + DL_SECRET,
    'fine: Bearer DLVCR_TOKEN_1 and t=DLVCR_STREAMTOKEN_1',
  ].join('\n');
  const findings = scanText(text, { file: 'app.log' });
  assert.deepEqual(
    findings.map((f) => [f.line, f.kind, f.path]),
    [
      [1, 'url-token', '(text)'],
      [2, 'bearer', '(text)'],
      [3, 'directline-secret', '(text)'],
    ],
  );
  assert.match(formatFindings(findings), /^app\.log:1 {2}url-token {2}\(text\) {2}st-O…$/m);
});

test('other authorization schemes and cookies: the credential is the finding', () => {
  const text = JSON.stringify({
    events: [{ request: { headers: { authorization: 'BotConnector some-webchat-secret-value', cookie: 'session=abc123def456' } } }],
  });
  const findings = scanText(text);
  assert.deepEqual(
    findings.map((f) => [f.path, f.kind, f.excerpt]),
    [
      ['events[0].request.headers.authorization', 'authorization', 'some…'],
      ['events[0].request.headers.cookie', 'authorization', 'sess…'],
    ],
  );
});
