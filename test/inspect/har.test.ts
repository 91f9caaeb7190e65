import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Ajv } from 'ajv';
import { toHar, type Har } from '../../src/inspect/har.js';
import { CassetteBuilder, POLL_CONV, SCENARIO, WS_CONV, scenario } from './fixtures.js';

const require = createRequire(import.meta.url);

/** A validator for HAR 1.2 built from the har-schema package (draft-06 JSON Schemas, one per HAR object). */
function harValidator() {
  // har-schema uses a few non-standard annotations (optional, min, unique): not strict.
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json'));
  (require('ajv-formats') as (a: Ajv) => Ajv)(ajv);
  const schemas = require('har-schema') as Record<string, object>;
  for (const s of Object.values(schemas)) ajv.addSchema(s);
  const validate = ajv.getSchema('har.json#');
  assert.ok(validate, 'har-schema provides har.json#');
  return (har: unknown) => {
    const ok = validate(har);
    return { ok, errors: ajv.errorsText(validate.errors ?? []) };
  };
}

const validateHar = harValidator();

function roundTrip(h: Har): Har {
  return JSON.parse(JSON.stringify(h)) as Har;
}

test('the HAR of the scenario validates against the HAR 1.2 schema', () => {
  const har = roundTrip(toHar(scenario().build()));
  const r = validateHar(har);
  assert.ok(r.ok, r.errors);
  assert.equal(har.log.version, '1.2');
  assert.equal(har.log.creator.name, 'directline-vcr');
});

test('the schema check is not vacuous: a broken HAR fails it', () => {
  const har = roundTrip(toHar(scenario().build())) as unknown as { log: { entries: Array<Record<string, unknown>> } };
  delete har.log.entries[0].request;
  assert.equal(validateHar(har).ok, false);
  const bad = roundTrip(toHar(scenario().build())) as unknown as { log: { entries: Array<{ response: { status: unknown } }> } };
  bad.log.entries[0].response.status = '201';
  assert.equal(validateHar(bad).ok, false);
  const date = roundTrip(toHar(scenario().build())) as unknown as { log: { entries: Array<{ startedDateTime: string }> } };
  date.log.entries[0].startedDateTime = 'yesterday';
  assert.equal(validateHar(date).ok, false);
});

test('one entry per http event and one websocket entry with every frame of the socket', () => {
  const har = toHar(scenario().build());
  const http = har.log.entries.filter((e) => e._resourceType !== 'websocket');
  const ws = har.log.entries.filter((e) => e._resourceType === 'websocket');
  assert.equal(http.length, SCENARIO.httpEvents);
  assert.equal(ws.length, 1);
  const [sock] = ws;
  assert.equal(sock.request.method, 'GET');
  assert.equal(sock.response.status, 101);
  assert.match(
    sock.request.url,
    new RegExp(`^wss://directline\\.botframework\\.com/v3/directline/conversations/${WS_CONV}/stream\\?watermark=-&t=DLVCR_STREAMTOKEN_1$`),
  );
  const msgs = sock._webSocketMessages!;
  assert.equal(msgs.length, SCENARIO.wsSocketFrames);
  assert.equal(msgs.filter((m) => m.type === 'send').length, SCENARIO.wsClientFrames);
  assert.equal(msgs.filter((m) => m.type === 'receive').length, SCENARIO.wsSocketFrames - SCENARIO.wsClientFrames);
  assert.ok(msgs.every((m) => m.opcode === 1));
  // Chrome's format: epoch seconds as a float, the frame text as sent.
  const welcome = msgs[0];
  assert.equal(welcome.time, Date.parse('2026-06-12T12:53:39.080Z') / 1000);
  assert.equal(JSON.parse(welcome.data).activities[0].text, 'Welcome to the emulator bot!');
  assert.equal(msgs.filter((m) => m.data === '').length, SCENARIO.firstKeepAlives + SCENARIO.laterKeepAlives + SCENARIO.wsClientFrames);
  assert.match(sock.comment ?? '', /closed by server .*1011 server closed the stream/);
});

test('http entries carry url, times, status, bodies and sizes', () => {
  const c = scenario().build();
  const har = toHar(c);
  const entries = har.log.entries;
  // Sorted by start time, each computed from createdAt + t.
  const starts = entries.map((e) => Date.parse(e.startedDateTime));
  assert.deepEqual(
    starts,
    [...starts].sort((a, b) => a - b),
  );
  assert.equal(entries[0].startedDateTime, '2026-06-12T12:53:39.000Z');

  const failed = entries.find((e) => e.response.status === 502)!;
  assert.equal(failed.request.method, 'POST');
  assert.equal(failed.request.url, `https://directline.botframework.com/v3/directline/conversations/${POLL_CONV}/activities`);
  assert.equal(failed.response.statusText, 'Bad Gateway');
  assert.equal(failed.time, 1200);
  assert.equal(failed.timings.wait, 1200);
  assert.equal(failed.startedDateTime, '2026-06-12T12:53:43.000Z');
  assert.equal(JSON.parse(failed.response.content.text!).error.code, 'BotError');
  assert.equal(failed.response.content.size, Buffer.byteLength(failed.response.content.text!));
  assert.equal(JSON.parse(failed.request.postData!.text).text, 'order pizza');
  assert.equal(failed.request.bodySize, Buffer.byteLength(failed.request.postData!.text));
  assert.deepEqual(
    failed.request.headers.find((h) => h.name === 'authorization'),
    { name: 'authorization', value: 'Bearer DLVCR_TOKEN_2' },
  );

  const poll = entries.find((e) => e.request.url.endsWith('/activities?watermark=0'))!;
  assert.deepEqual(poll.request.queryString, [{ name: 'watermark', value: '0' }]);
  assert.equal(poll.request.postData, undefined);
  assert.equal(poll.request.bodySize, 0);

  const unreachable = entries.find((e) => e.response.status === 0)!;
  assert.match(unreachable.request.url, /\/v3\/directline\/tokens\/refresh$/);
  assert.match(unreachable.response._error ?? '', /ECONNREFUSED/);

  for (const e of entries) {
    const t = e.timings;
    const sum = [t.send, t.wait, t.receive].reduce((a, b) => a + b, 0);
    assert.equal(e.time, sum, 'time is the sum of the timings');
    assert.ok(e.time >= 0);
  }
});

test('pages: one per conversation, entries linked by pageref; can be turned off', () => {
  const har = toHar(scenario().build());
  assert.deepEqual(
    har.log.pages!.map((p) => p.title),
    [`Direct Line conversation ${WS_CONV}`, `Direct Line conversation ${POLL_CONV}`],
  );
  const ids = new Set(har.log.pages!.map((p) => p.id));
  assert.ok(har.log.entries.every((e) => e.pageref && ids.has(e.pageref)));
  const bare = toHar(scenario().build(), { pages: false });
  assert.equal(bare.log.pages, undefined);
  assert.ok(bare.log.entries.every((e) => e.pageref === undefined));
  assert.ok(validateHar(roundTrip(bare)).ok);
});

test('a refused upgrade, binary frames and a text upload body still make a valid HAR', () => {
  const b = new CassetteBuilder({ origin: 'http://127.0.0.1:3978', basePath: '/custom/dl' });
  const C = 'Q1w2E3r4T5y6U7i8O9p0Aa-us';
  b.http({ t: 0, route: 'conversations.start', method: 'POST', path: '/conversations', status: 200, response: { conversationId: C } });
  b.wsOpen({ t: 10, socket: 1, conversationId: C });
  b.http({
    t: 20,
    route: 'upload',
    method: 'POST',
    path: `/conversations/${C}/upload`,
    conversationId: C,
    query: { userId: 'u1' },
    headers: { 'content-type': 'text/plain' },
    body: 'file contents',
    response: { id: `${C}|0000001` },
  });
  const raw = b.raw();
  raw.events.push({
    type: 'ws.message',
    t: 30,
    conversationId: C,
    socket: 1,
    from: 'server',
    data: { base64: Buffer.from([1, 2, 3]).toString('base64') },
  });
  raw.events.push({ type: 'ws.close', t: 40, conversationId: C, socket: 1, by: 'client', code: 1005, reason: '' });
  raw.events.push({
    type: 'ws.open',
    t: 50,
    conversationId: C,
    socket: 2,
    path: `/custom/dl/conversations/${C}/stream`,
    query: { watermark: '1', t: 'DLVCR_STREAMTOKEN_2' },
    status: 403,
    response: {
      status: 403,
      headers: { 'content-type': 'application/json' },
      body: { json: { error: { code: 'TokenExpired', message: 'Token expired' } } },
    },
  });
  const har = roundTrip(toHar(raw));
  const r = validateHar(har);
  assert.ok(r.ok, r.errors);
  const [s1, s2] = har.log.entries.filter((e) => e._resourceType === 'websocket');
  assert.match(s1.request.url, /^ws:\/\/127\.0\.0\.1:3978\/custom\/dl\/conversations\//);
  assert.deepEqual(s1._webSocketMessages, [
    { type: 'receive', time: Date.parse('2026-06-12T12:53:39.030Z') / 1000, opcode: 2, data: 'AQID' },
  ]);
  assert.equal(s2.response.status, 403);
  assert.equal(JSON.parse(s2.response.content.text!).error.code, 'TokenExpired');
  assert.deepEqual(s2._webSocketMessages, []);
  const upload = har.log.entries.find((e) => e.request.url.includes('/upload'))!;
  assert.equal(upload.request.url, `http://127.0.0.1:3978/custom/dl/conversations/${C}/upload?userId=u1`);
  assert.deepEqual(upload.request.postData, { mimeType: 'text/plain', text: 'file contents' });
});
