// diff on hostile input: unrelated cassettes, empty ones, a cassette against itself, 10,000-turn
// cassettes generated here, odd activities and deep nesting. It must answer (the test timeout is the
// bound) and never throw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateCassette } from '../../src/cassette/load.js';
import type { Cassette, CassetteEvent } from '../../src/cassette/schema.js';
import { diffCassettes, renderDiffText, renderJUnit } from '../../src/index.js';
import { XMLParser } from 'fast-xml-parser';

const BASE = '/v3/directline';

/** A WebSocket conversation of `turns` posts, each answered by `reply(i)`, as the recorder would write it. */
function generated(turns: number, conv: string, reply: (i: number) => string, user = (i: number) => `message ${i}`): Cassette {
  const events: CassetteEvent[] = [];
  let t = 0;
  let seq = 0;
  const frame = (activity: Record<string, unknown>) => {
    const id = `${conv}|${String(seq).padStart(7, '0')}`;
    events.push({
      type: 'ws.message',
      t: (t += 1),
      conversationId: conv,
      socket: 0,
      from: 'server',
      data: {
        json: {
          activities: [{ ...activity, id, timestamp: new Date(1e12 + t).toISOString(), conversation: { id: conv } }],
          watermark: String(seq++),
        },
      },
    });
    return id;
  };
  events.push({
    type: 'http',
    t: (t += 1),
    conversationId: conv,
    route: 'conversations.start',
    request: { method: 'POST', path: `${BASE}/conversations`, query: {}, headers: { authorization: 'Bearer DLVCR_SECRET_1' }, body: null },
    response: {
      status: 201,
      headers: {},
      body: {
        json: {
          conversationId: conv,
          token: 'DLVCR_TOKEN_1',
          streamUrl: `ws://up${BASE}/conversations/${conv}/stream?t=DLVCR_STREAMTOKEN_1`,
        },
      },
    },
    duration: 1,
  });
  events.push({
    type: 'ws.open',
    t: (t += 1),
    conversationId: conv,
    socket: 0,
    path: `${BASE}/conversations/${conv}/stream`,
    query: { t: 'DLVCR_STREAMTOKEN_1' },
    status: 101,
  });
  frame({ type: 'message', from: { id: 'bot', role: 'bot' }, text: 'Welcome' });
  for (let i = 1; i <= turns; i++) {
    const echoId = `${conv}|${String(seq).padStart(7, '0')}`;
    events.push({
      type: 'http',
      t: (t += 1),
      conversationId: conv,
      route: 'activities.post',
      request: {
        method: 'POST',
        path: `${BASE}/conversations/${conv}/activities`,
        query: {},
        headers: { authorization: 'Bearer DLVCR_TOKEN_1' },
        body: { json: { type: 'message', from: { id: 'u' }, text: user(i) } },
      },
      response: { status: 200, headers: {}, body: { json: { id: echoId } } },
      duration: 1,
    });
    frame({ type: 'message', from: { id: 'u', role: 'user' }, text: user(i) });
    frame({
      type: 'message',
      from: { id: 'bot', role: 'bot' },
      text: reply(i),
      replyToId: echoId,
      channelData: { n: reply(i).length % 7 },
    });
  }
  return validateCassette({
    version: 1,
    tool: { name: 'directline-vcr', version: '0' },
    createdAt: '2026-01-01T00:00:00.000Z',
    upstream: { origin: 'http://up', basePath: BASE },
    redaction: { placeholders: {} },
    events,
  });
}

const empty = (): Cassette =>
  validateCassette({
    version: 1,
    tool: { name: 'directline-vcr', version: '0' },
    createdAt: '',
    upstream: { origin: '', basePath: '' },
    redaction: { placeholders: {} },
    events: [],
  });

test('hostile: a cassette against itself, and two recordings of it with other ids, are the same (10,000 turns)', {
  timeout: 60_000,
}, () => {
  const a = generated(10_000, 'AAAAconversation-one-us', (i) => `reply ${i}`);
  const b = generated(10_000, 'BBBBconversation-two-us', (i) => `reply ${i}`);
  const self = diffCassettes(a, a);
  assert.equal(self.equal, true);
  assert.deepEqual(self.summary.turns, { a: 10_001, b: 10_001, same: 10_001, changed: 0, added: 0, missing: 0 });
  const other = diffCassettes(a, b);
  assert.equal(other.equal, true, 'conversation ids, activity ids and timestamps differ, nothing else');
  assert.match(renderDiffText(other), /^same: 1 vs 1 conversation\(s\), 10001 vs 10001 turn\(s\)/m);
});

test('hostile: one changed, one missing and one added turn among 10,000 are found exactly', { timeout: 60_000 }, () => {
  const a = generated(10_000, 'AAAAconversation-one-us', (i) => `reply ${i}`);
  const b = generated(
    10_000,
    'BBBBconversation-two-us',
    (i) => (i === 5000 ? 'changed' : `reply ${i}`),
    (i) => (i === 7000 ? 'a new question' : `message ${i}`),
  );
  const d = diffCassettes(a, b);
  const differing = d.conversations[0]!.turns.filter((t) => t.verdict !== 'same');
  assert.deepEqual(
    differing.map((t) => [t.verdict, t.label]),
    [
      ['changed', 'turn 5000 "message 5000"'],
      ['changed', 'turn 7000 "message 7000"'],
    ],
    'a turn whose user text changed in place is one changed turn',
  );
  assert.deepEqual(
    differing[1]!.changes.map((c) => c.path),
    ['user.text'],
  );
  const dropped = generated(
    9_999,
    'CCCCconversation-three-us',
    (i) => `reply ${i >= 3000 ? i + 1 : i}`,
    (i) => `message ${i >= 3000 ? i + 1 : i}`,
  );
  const m = diffCassettes(a, dropped);
  assert.deepEqual(
    m.conversations[0]!.turns.filter((t) => t.verdict !== 'same').map((t) => [t.verdict, t.label]),
    [['missing', 'turn 3000 "message 3000"']],
  );
  const back = diffCassettes(dropped, a);
  assert.deepEqual(
    back.conversations[0]!.turns.filter((t) => t.verdict !== 'same').map((t) => [t.verdict, t.label]),
    [['added', 'turn 3000 "message 3000"']],
  );
});

test('hostile: two unrelated 10,000-turn cassettes differ everywhere, and every renderer copes', { timeout: 60_000 }, () => {
  const a = generated(10_000, 'AAAAconversation-one-us', (i) => `reply ${i}`);
  const b = generated(
    10_000,
    'ZZZZconversation-other-us',
    (i) => `other ${i * 3}`,
    (i) => `unrelated ${i * 7}`,
  );
  const d = diffCassettes(a, b);
  assert.equal(d.equal, false);
  assert.equal(d.summary.turns.same, 1, 'only the start (same welcome) is the same');
  assert.equal(d.summary.turns.changed + d.summary.turns.missing + d.summary.turns.added >= 10_000, true);
  const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(renderJUnit(d));
  assert.equal([xml.testsuites.testsuite.testcase].flat().length, d.conversations[0]!.turns.length);
  assert.ok(renderDiffText(d).length > 10_000);
  JSON.stringify(d);
});

test('hostile: empty cassettes, an empty against a full one, and a cassette of nothing but odd events', () => {
  const full = generated(3, 'AAAAconversation-one-us', (i) => `reply ${i}`);
  assert.equal(diffCassettes(empty(), empty()).equal, true);
  const gone = diffCassettes(full, empty());
  assert.equal(gone.equal, false);
  assert.deepEqual(
    gone.conversations.map((c) => c.verdict),
    ['missing'],
  );
  assert.deepEqual(gone.summary.turns, { a: 4, b: 0, same: 0, changed: 0, added: 0, missing: 4 });
  assert.deepEqual(
    diffCassettes(empty(), full).conversations.map((c) => c.verdict),
    ['added'],
  );

  // Activities that are not objects, sets that are not sets, frames that are not JSON, deep channelData,
  // keys named __proto__, a reply to an id nobody sent.
  let deep: unknown = 'bottom';
  for (let i = 0; i < 240; i++) deep = { d: deep };
  const odd = generated(2, 'OOOOconversation-odd-us', (i) => `reply ${i}`);
  const conv = 'OOOOconversation-odd-us';
  odd.events.push(
    {
      type: 'ws.message',
      t: 900,
      conversationId: conv,
      socket: 0,
      from: 'server',
      data: { json: { activities: [null, 7, 'x', [], { type: 5 }] } },
    },
    { type: 'ws.message', t: 901, conversationId: conv, socket: 0, from: 'server', data: { json: { activities: 'nope' } } },
    { type: 'ws.message', t: 902, conversationId: conv, socket: 0, from: 'server', data: { text: '{"activities":[' } },
    { type: 'ws.message', t: 903, conversationId: conv, socket: 0, from: 'server', data: { base64: 'AAEC' } },
    {
      type: 'ws.message',
      t: 904,
      conversationId: conv,
      socket: 0,
      from: 'server',
      data: {
        json: {
          activities: [
            { type: 'message', from: { role: 'bot' }, replyToId: 'nobody', channelData: deep, value: JSON.parse('{"__proto__":{"x":1}}') },
          ],
        },
      },
    },
    { type: 'ws.close', t: 905, conversationId: conv, socket: 0, by: 'server', code: 1011, reason: '' },
    {
      type: 'http',
      t: 906,
      conversationId: null,
      route: 'unknown',
      request: { method: 'GET', path: '/elsewhere', query: {}, headers: {}, body: null },
      response: null,
      error: { code: 'ECONNREFUSED', message: 'refused' },
      duration: 0,
    },
  );
  const againstItself = diffCassettes(odd, odd);
  assert.equal(againstItself.equal, true);
  const againstPlain = diffCassettes(
    generated(2, 'PPPPconversation-plain-us', (i) => `reply ${i}`),
    odd,
  );
  assert.equal(againstPlain.equal, false);
  const paths = againstPlain.conversations[0]!.turns.flatMap((t) => t.changes.map((c) => c.path));
  assert.ok(
    paths.some((p) => p.startsWith('replies[')),
    `the odd replies are reported: ${paths.join(', ')}`,
  );
  renderDiffText(againstPlain, { color: true });
  new XMLParser().parse(renderJUnit(againstPlain));
});
