// JUnit XML parses with a real XML parser: one case per turn, one failure per differing turn, and labels
// with quotes, markup and control characters survive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { compareTurns, renderJUnit } from '../../src/diff/index.js';
import type { CassetteTurns, Turn } from '../../src/diff/types.js';

const turn = (index: number, text: string, reply: string, status = 200): Turn => ({
  index,
  cause: index === 0 ? 'start' : 'post',
  user: index === 0 ? null : { type: 'message', text },
  status,
  replies: [{ type: 'message', text: reply }],
  firstReplyMs: 10,
});
const cassette = (turns: Turn[]): CassetteTurns => ({
  conversations: [{ ordinal: 0, delivery: 'stream', exchanges: { 'tokens.generate': [200] }, turns }],
});

test('junit: one testcase per turn, a failure for each changed, missing and added turn; hostile text is escaped', () => {
  const hostile = 'say "<b>]]>&\u0001\u0007 \uD800 hi';
  const a = cassette([turn(0, '', 'Welcome'), turn(1, hostile, 'ok'), turn(2, 'two', 'x'), turn(3, 'three', 'y')]);
  const b = cassette([
    turn(0, '', 'Welcome'),
    turn(1, hostile, 'changed <reply> & "more"', 502),
    turn(3, 'three', 'y'),
    turn(4, 'four', 'z'),
  ]);
  const d = compareTurns(a, b);
  const xml = renderJUnit(d, { name: 'drift "check"\u0001\uDC00' });
  assert.equal(XMLValidator.validate(xml), true);
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml);
  const cases: any[] = [doc.testsuites.testsuite.testcase].flat();
  assert.equal(doc.testsuites.name, 'drift "check"\uFFFD\uFFFD', 'characters XML cannot carry are replaced');
  assert.deepEqual(
    cases.map((c) => [c.name, Boolean(c.failure)]),
    [
      ['turn 0 (conversation start)', false],
      ['turn 1 "say \\"<b>]]>&\\u0001\\u0007 \\ud800 hi"', true],
      ['turn 2 "two"', true],
      ['turn 3 "three"', false],
      ['turn 4 "four"', true],
    ],
  );
  assert.equal(cases[1].failure.message, 'changed: status, replies[0].text');
  assert.match(cases[1].failure['#text'], /replies\[0\]\.text\n {2}a: "ok"\n {2}b: "changed <reply> & \\"more\\""/);
  assert.equal(cases[2].failure.message, 'the turn is missing in b');
  assert.equal(cases[4].failure.message, 'the turn was added in b');
  assert.deepEqual([doc.testsuites.tests, doc.testsuites.failures], ['5', '3']);
});

test('junit: an equal diff has no failure at all', () => {
  const a = cassette([turn(0, '', 'Welcome'), turn(1, 'one', 'ok')]);
  const xml = renderJUnit(compareTurns(a, a));
  assert.equal(XMLValidator.validate(xml), true);
  assert.doesNotMatch(xml, /<failure/);
  assert.match(xml, /tests="2" failures="0"/);
});
