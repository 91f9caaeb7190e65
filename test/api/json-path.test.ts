// JSON paths in the redaction rules: the syntax, what they select, and how the Redactor uses them
// (next to the existing rules, which keep their behaviour).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsonPathError, parseJsonPath, type JsonPath } from 'directline-vcr';
import { Redactor } from '../../src/cassette/redact.js';

const sel = (p: JsonPath, ...paths: Array<Array<string | number>>) => paths.map((x) => p.matches(x));

test('JSON path syntax: root, names, quoted names, indexes, wildcards, descendants', () => {
  assert.deepEqual(
    sel(parseJsonPath('$.value.password'), ['value', 'password'], ['value'], ['value', 'password', 'x'], ['x', 'value', 'password']),
    [true, false, false, false],
  );
  assert.deepEqual(sel(parseJsonPath('value.password'), ['value', 'password']), [true], 'the $ is optional');
  assert.deepEqual(
    sel(
      parseJsonPath('activities[*].channelData.secretThing'),
      ['activities', 0, 'channelData', 'secretThing'],
      ['activities', 12, 'channelData', 'secretThing'],
      ['activities', 0, 'channelData'],
      ['channelData', 'secretThing'],
    ),
    [true, true, false, false],
  );
  assert.deepEqual(sel(parseJsonPath('activities[1].text'), ['activities', 1, 'text'], ['activities', 0, 'text']), [true, false]);
  assert.deepEqual(sel(parseJsonPath('$.*.token'), ['a', 'token'], [0, 'token'], ['token']), [true, true, false], '* is any one step');
  assert.deepEqual(
    sel(parseJsonPath('..password'), ['password'], ['a', 0, 'b', 'password'], ['password', 'x']),
    [true, true, false],
    '.. is any depth, zero included',
  );
  assert.deepEqual(
    sel(
      parseJsonPath('$..channelData.apiKey'),
      ['activities', 3, 'channelData', 'apiKey'],
      ['channelData', 'apiKey'],
      ['channelData', 'x', 'apiKey'],
    ),
    [true, true, false],
  );
  assert.deepEqual(sel(parseJsonPath('$..[*].x'), [0, 'x'], ['a', 'b', 'x'], ['x']), [true, true, false]);
  assert.deepEqual(sel(parseJsonPath(`$["odd key"]['it\\'s'][0]`), ['odd key', "it's", 0]), [true]);
  assert.deepEqual(
    sel(parseJsonPath('$type.x-api-key'), ['$type', 'x-api-key']),
    [true],
    'a leading $ followed by a name is part of the name',
  );
  assert.deepEqual(sel(parseJsonPath('a.Password'), ['a', 'password']), [false], 'names are case-sensitive');
  assert.equal(String(parseJsonPath('$..x')), '$..x');
});

test('JSON path errors say what and where', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /selects the whole body/],
    ['$', /selects the whole body/],
    ['a.', /ends after a dot at character 3/],
    ['a[', /unclosed "\[" at character 2/],
    ['a[x]', /expected \[\*\], \[number\] or \["name"\] but found \[x\] at character 2/],
    ['a.[0]', /a "\." before "\[" at character 2/],
    ['a b', /expected "\.", "\.\." or "\[" but found " " at character 2/],
    ['["x"', /expected "\]" after the quoted name/],
    ['a[-1]', /but found \[-1\]/],
  ];
  for (const [src, problem] of cases) {
    assert.throws(
      () => parseJsonPath(src),
      (err: any) => err instanceof JsonPathError && err.path === src && problem.test(err.message),
      src,
    );
  }
  assert.throws(() => new Redactor({ jsonPaths: ['ok', 'a[x]'] }), JsonPathError);
});

test('Redactor: a JSON path replaces the strings it selects, at any depth below, and the same value anywhere', () => {
  const r = new Redactor({ jsonPaths: ['activities[*].channelData.secretThing', '$.value.password', '..credentials'] });
  const frame = r.json({
    activities: [
      { type: 'message', text: 'the code is vault-7f3a9c1e5b', channelData: { secretThing: 'vault-7f3a9c1e5b', keep: 'shown' } },
    ],
    watermark: '3',
  }) as any;
  // The text comes before channelData in the activity: the value is learnt before anything is replaced.
  assert.deepEqual(frame.activities[0], {
    type: 'message',
    text: 'the code is DLVCR_CUSTOM_1',
    channelData: { secretThing: 'DLVCR_CUSTOM_1', keep: 'shown' },
  });
  assert.equal(frame.watermark, '3');
  const posted = r.json({
    type: 'message',
    value: { password: 'pw', user: 'ann' },
    channelData: { credentials: { id: 'c-id', keys: ['k1', 2, true, null] } },
  }) as any;
  assert.deepEqual(posted.value, { password: 'DLVCR_CUSTOM_2', user: 'ann' });
  assert.deepEqual(
    posted.channelData.credentials,
    { id: 'DLVCR_CUSTOM_3', keys: ['DLVCR_CUSTOM_4', 2, true, null] },
    'strings below a selected object; other values kept',
  );
  // `$.value.password` is rooted: the same key elsewhere is not selected (but the known value is replaced).
  assert.deepEqual((r.json({ activities: [{ value: { password: 'other-password' } }] }) as any).activities[0].value, {
    password: 'other-password',
  });
  assert.equal(r.text('later: vault-7f3a9c1e5b'), 'later: DLVCR_CUSTOM_1', 'a learnt value stays known');
  assert.deepEqual(r.placeholders, {
    DLVCR_CUSTOM_1: 'custom',
    DLVCR_CUSTOM_2: 'custom',
    DLVCR_CUSTOM_3: 'custom',
    DLVCR_CUSTOM_4: 'custom',
  });
});

test('Redactor: a frame kept with its exact text loses the selected values there too, short ones included', () => {
  const r = new Redactor({ jsonPaths: ['activities[*].value.pin'] });
  const json = { activities: [{ value: { pin: '4711' }, text: 'pin 4711' }] };
  const out = r.frame({ json, text: JSON.stringify(json, null, 2) });
  assert.ok('text' in out && out.text !== undefined);
  assert.ok(!out.text.includes('"4711"'), out.text);
  assert.match(out.text, /"pin": "DLVCR_CUSTOM_1"/);
  assert.deepEqual((out as { json: any }).json.activities[0].value, { pin: 'DLVCR_CUSTOM_1' });
});

test('Redactor: the existing rules behave as before (token keys, json keys, patterns, URLs)', () => {
  const r = new Redactor({ jsonKeys: ['apiKey'], patterns: [/ORDER-\d{6}/] });
  const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXBhcnQ';
  const out = r.json({
    conversationId: 'abc',
    token: jwt,
    streamUrl: `wss://x/stream?t=${jwt}x`,
    nested: [{ APIKEY: 'k-123456789', note: 'order ORDER-123456 for k-123456789' }],
  }) as any;
  assert.equal(out.conversationId, 'abc');
  assert.equal(out.token, 'DLVCR_TOKEN_1');
  assert.equal(out.streamUrl, 'wss://x/stream?t=DLVCR_STREAMTOKEN_1');
  assert.equal(out.nested[0].APIKEY, 'DLVCR_CUSTOM_1', 'json keys are case-insensitive');
  assert.equal(out.nested[0].note, 'order DLVCR_CUSTOM_2 for DLVCR_CUSTOM_1');
  // Array elements have no key: a json key rule does not reach them (unchanged behaviour).
  assert.deepEqual(new Redactor({ jsonKeys: ['apiKey'] }).json({ apiKey: ['a-long-value'] }), { apiKey: ['a-long-value'] });
});
