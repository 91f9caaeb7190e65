import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderTimeline, buildTimeline, type TimelineRow } from '../../src/inspect/timeline.js';
import { stripAnsi } from '../../src/inspect/ansi.js';
import { CassetteBuilder, LONG_TEXT, POLL_CONV, SCENARIO, WS_CONV, scenario } from './fixtures.js';

const ANSI = /\x1b\[[0-9;]*m/;
const lines = (s: string) => s.split('\n');

test('lists both conversations, each under its own heading, in order of appearance', () => {
  const out = renderTimeline(scenario().build(), { color: false });
  const heads = lines(out).filter((l) => l.startsWith('Conversation '));
  assert.equal(heads.length, 2);
  assert.match(heads[0], new RegExp(`^Conversation ${WS_CONV} .*websocket, 1 socket`));
  assert.match(heads[1], new RegExp(`^Conversation ${POLL_CONV} .*polling`));
  // Every event of a conversation is printed below its own heading.
  const second = out.indexOf(`Conversation ${POLL_CONV}`);
  assert.ok(out.indexOf('burst 3/3') < second);
  assert.ok(out.indexOf('margherita please') > second);
});

test('http rows: time, arrow, method, route, path below the base, status and duration', () => {
  const out = renderTimeline(scenario().build(), { color: false });
  assert.match(out, /^ +\+0\.000s +→ POST conversations\.start \/conversations +← 201 Created +45 ms$/m);
  assert.match(
    out,
    new RegExp(
      /^ +\+4\.000s +→ POST activities\.post \/conversations\/ZyXwVu…\/activities +← 502 Bad Gateway +1\.2 s +/.source +
        /BotError: Failed to send activity/.source,
      'm',
    ),
  );
  assert.match(
    out,
    /^ +\+3\.100s +→ GET activities\.get \/conversations\/ZyXwVu…\/activities\?watermark=0 +← 200 OK +20 ms +0 activities, watermark 0$/m,
  );
  assert.match(out, /^ +\+8\.000s +→ POST tokens\.refresh \/tokens\/refresh +← no response .*ECONNREFUSED/m);
  // A poll lists what it got, one activity a line.
  assert.match(
    out,
    new RegExp(
      /activities\?watermark=1 .* 2 activities, watermark 3\n +↳ message user "r_k2j3h4g5" \(echo\): "margherita please"\n/.source +
        / +↳ message bot "Pizza Bot": "One margherita, coming up\."/.source,
    ),
  );
});

test('stream rows: open with watermark, frames summarised with role, name and cut text, close with code and reason', () => {
  const out = renderTimeline(scenario().build(), { color: false });
  assert.match(out, /\+0\.060s +→ ws#1 open \/conversations\/AbCdEf…\/stream\?watermark=- +← 101 Switching Protocols/);
  assert.ok(!out.includes('DLVCR_STREAMTOKEN_1'), 'the t= parameter is left out of paths');
  assert.match(out, /\+0\.080s +← ws#1 message bot "Emulator Bot": "Welcome to the emulator bot!" +wm 0/);
  assert.match(out, /\+16\.020s +← ws#1 typing bot "Emulator Bot"$/m);
  assert.match(out, /burst 2\/3" \[2 attachments: chart\.png, application\/vnd\.microsoft\.card\.hero\]/);
  assert.match(out, /\+62\.000s +← ws#1 closed by server 1011 "server closed the stream"/);
  // Long text: one line, about 60 characters, ending in an ellipsis.
  const echo = lines(out).find((l) => l.includes('+16.010s'))!;
  assert.match(echo, /← ws#1 message user "Ada" \(echo\): "Hello there, .*…"/);
  const quoted = /: "(.*)"/.exec(echo)![1];
  assert.ok(quoted.length <= 60 && quoted.length >= 50, `cut to ~60 characters: ${quoted.length}`);
  assert.ok(LONG_TEXT.startsWith(quoted.slice(0, -1).trimEnd()));
});

test('consecutive keep-alives fold into one line with their number and span; client pings likewise', () => {
  const out = renderTimeline(scenario().build(), { color: false });
  assert.match(out, new RegExp(`\\+5\\.080s +← ws#1 ${SCENARIO.firstKeepAlives} keep-alives over 10\\.0 s$`, 'm'));
  assert.match(out, new RegExp(`\\+26\\.000s +← ws#1 ${SCENARIO.laterKeepAlives} keep-alives over 15\\.0 s$`, 'm'));
  assert.match(out, new RegExp(`\\+40\\.060s +→ ws#1 ${SCENARIO.laterPings} pings over 20\\.0 s$`, 'm'));
  assert.match(out, /\+20\.060s +→ ws#1 ping$/m);
  assert.equal(lines(out).filter((l) => /keep-alive/.test(l)).length, 2, 'no keep-alive printed on its own');
  const rows = renderTimeline(scenario().build(), { json: true });
  const folds = rows.filter((r) => r.kind === 'keepalive');
  assert.deepEqual(
    folds.map((r) => r.count),
    [SCENARIO.firstKeepAlives, SCENARIO.laterKeepAlives],
  );
  assert.equal(folds[0].events.length, SCENARIO.firstKeepAlives);
});

test('pauses over a second before an upstream frame are shown; the threshold is an option', () => {
  const out = renderTimeline(scenario().build(), { color: false });
  const ls = lines(out);
  const gap = ls.findIndex((l) => l.trim() === '… 2.4 s …');
  assert.ok(gap > 0, 'the 2.4 s the bot took after typing');
  assert.match(ls[gap - 1], /typing/);
  assert.match(ls[gap + 1], /You said/);
  assert.ok(
    ls.some((l) => l.trim() === '… 40.9 s …'),
    'the quiet time before the server closed the socket',
  );
  // Client think time is not a wait of the replay: no gap line before a client request.
  const gapLine = /^\s*… [\d.]+ s …$/;
  assert.ok(!ls.some((l, i) => gapLine.test(l) && / → /.test(ls[i + 1] ?? '')));
  const none = renderTimeline(scenario().build(), { color: false, gapMs: 60_000 });
  assert.ok(!lines(none).some((l) => gapLine.test(l)));
});

test('plain output has no ANSI escapes; colour output has them, green for 2xx and red for 5xx', () => {
  const c = scenario().build();
  const plain = renderTimeline(c, { color: false });
  assert.ok(!ANSI.test(plain));
  const color = renderTimeline(c, { color: true });
  assert.ok(ANSI.test(color));
  assert.ok(color.includes('\x1b[32m201 Created\x1b[39m'));
  assert.ok(color.includes('\x1b[31m502 Bad Gateway\x1b[39m'));
  // user and bot in different colours
  assert.ok(color.includes('\x1b[36muser "Ada"'));
  assert.ok(color.includes('\x1b[35mbot "Emulator Bot"'));
  assert.equal(stripAnsi(color), plain);
});

test('filters: one conversation (id or prefix), and row types', () => {
  const c = scenario().build();
  const only = renderTimeline(c, { color: false, conversation: POLL_CONV });
  assert.ok(only.includes(`Conversation ${POLL_CONV}`) && !only.includes(WS_CONV));
  const prefix = renderTimeline(c, { color: false, conversation: 'AbCd' });
  assert.ok(prefix.includes(`Conversation ${WS_CONV}`) && !prefix.includes(POLL_CONV));
  assert.match(renderTimeline(c, { color: false, conversation: 'nope' }), /no conversation matches "nope"/);

  const typing = renderTimeline(c, { json: true, types: ['typing'] });
  assert.equal(typing.filter((r) => r.kind !== 'gap').length, SCENARIO.wsTyping);
  assert.ok(typing.every((r) => r.kind === 'gap' || r.tags.includes('typing')));

  const http = renderTimeline(c, { json: true, types: ['http'] });
  assert.equal(http.length, SCENARIO.httpEvents);
  const ws = renderTimeline(c, { json: true, types: ['ws'] }).filter((r) => r.kind !== 'gap');
  assert.ok(ws.every((r) => r.kind.startsWith('ws') || r.kind === 'keepalive' || r.kind === 'ping'));
  const errors = renderTimeline(c, { json: true, types: ['error'] });
  assert.deepEqual(
    errors.filter((r) => r.kind !== 'gap').map((r) => ('status' in r ? r.status : r.code)),
    [1011, 502, null],
  );
});

test('json rows: the same rows as the text, machine-readable and without colour', () => {
  const c = scenario().build();
  const rows: TimelineRow[] = renderTimeline(c, { json: true, color: true });
  assert.ok(Array.isArray(rows));
  assert.ok(!ANSI.test(JSON.stringify(rows)));
  const text = renderTimeline(c, { color: false });
  const printed = lines(text).filter((l) => /^ +\+\d/.test(l) || /^ +… /.test(l)).length;
  assert.equal(rows.length, printed);
  const post = rows.find((r) => r.kind === 'http' && r.status === 502)!;
  assert.deepEqual(
    {
      conversationId: post.conversationId,
      method: post.method,
      route: post.route,
      path: post.path,
      duration: post.duration,
      t: post.t,
      at: post.at,
      direction: post.direction,
    },
    {
      conversationId: POLL_CONV,
      method: 'POST',
      route: 'activities.post',
      path: `/conversations/${POLL_CONV}/activities`,
      duration: 1200,
      t: 4000,
      at: '+4.000s',
      direction: 'client→upstream',
    },
  );
  assert.match(post.text, /^→ POST activities\.post .*502 Bad Gateway/);
  const open = rows.find((r) => r.kind === 'ws.open')!;
  assert.equal(open.watermark, '-');
  const close = rows.find((r) => r.kind === 'ws.close')!;
  assert.deepEqual(
    [close.closedBy, close.code, close.reason, close.direction],
    ['server', 1011, 'server closed the stream', 'upstream→client'],
  );
  // events point back into the cassette
  assert.equal(c.events[close.events[0]].type, 'ws.close');
  // grouped rows are the same rows
  assert.deepEqual(
    buildTimeline(c).flatMap((g) => g.rows),
    rows,
  );
});

test('events with no conversation, a refused upgrade and non-activity frames', () => {
  const b = new CassetteBuilder();
  const C = 'Q1w2E3r4T5y6U7i8O9p0Aa-us';
  b.http({
    t: 0,
    route: 'tokens.generate',
    method: 'POST',
    path: '/tokens/generate',
    response: { conversationId: C, token: 'DLVCR_TOKEN_1', expires_in: 3600 },
  });
  b.http({ t: 5, route: 'unknown', method: 'GET', path: '/health', status: 404, response: 'Not Found' });
  b.wsOpen({ t: 10, socket: 1, conversationId: C, status: 403, refusal: { error: { code: 'TokenExpired', message: 'Token expired' } } });
  const raw = b.raw();
  raw.events.push({ type: 'ws.message', t: 20, conversationId: null, socket: 1, from: 'server', data: { json: { hello: 'world' } } });
  raw.events.push({ type: 'ws.message', t: 30, conversationId: null, socket: 1, from: 'server', data: { base64: 'AQID' } });
  const out = renderTimeline(raw, { color: false });
  // tokens.generate is filed under the conversation its response names
  assert.match(out, new RegExp(`Conversation ${C}[^\\n]*\\n +\\+0\\.000s +→ POST tokens\\.generate`));
  assert.match(out, /No conversation[^\n]*\n +\+0\.005s +→ GET unknown \/health +← 404 Not Found .*Not Found/);
  assert.match(out, /ws#1 open .* ← 403 Forbidden +refused: TokenExpired: Token expired/);
  assert.match(out, /← ws#1 frame \{"hello":"world"\}/);
  assert.match(out, /← ws#1 frame binary, 3 bytes/);
});
