import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toTranscript, transcriptConversations } from '../../src/inspect/transcript.js';
import { CassetteBuilder, LONG_TEXT, POLL_CONV, SCENARIO, WS_CONV, scenario } from './fixtures.js';

test('the stream conversation: every distinct activity once, in order, typing included', () => {
  const c = scenario().build();
  const t = toTranscript(c, { conversation: WS_CONV });
  assert.equal(t.length, SCENARIO.wsActivities);
  assert.deepEqual(
    t.map((a) => `${a.from!.role}:${a.type}:${a.text ?? ''}`),
    [
      'bot:message:Welcome to the emulator bot!',
      `user:message:${LONG_TEXT}`,
      'bot:typing:',
      `bot:message:You said: ${LONG_TEXT}`,
      'user:message:burst 3',
      'bot:typing:',
      'bot:message:burst 1/3',
      'bot:message:burst 2/3',
      'bot:message:burst 3/3',
    ],
  );
  assert.ok(t.every((a) => a.conversation && (a.conversation as { id: string }).id === WS_CONV));
  assert.ok(t.every((a) => a.channelId === 'directline'));
  // recipient: the other side
  assert.deepEqual(t[0].recipient, { id: 'dl_user-4711', name: 'Ada', role: 'user' });
  assert.deepEqual(t[1].recipient, { id: 'emulator-bot', name: 'Emulator Bot', role: 'bot' });
  // timestamps are the service's, untouched
  assert.equal(t[0].timestamp, '2026-06-12T12:53:39.0800000Z');
  // attachments kept
  assert.equal((t[7].attachments as unknown[]).length, 2);
});

test('typing can be dropped', () => {
  const t = toTranscript(scenario().build(), { conversation: WS_CONV, typing: false });
  assert.equal(t.length, SCENARIO.wsActivities - SCENARIO.wsTyping);
  assert.ok(t.every((a) => a.type !== 'typing'));
});

test('polling: activities from GET responses, deduplicated by id, roles inferred from what the client posted', () => {
  const t = toTranscript(scenario().build(), { conversation: POLL_CONV });
  assert.equal(t.length, SCENARIO.pollActivities);
  assert.deepEqual(
    t.map((a) => a.id),
    [0, 1, 2, 3].map((n) => `${POLL_CONV}|000000${n}`),
  );
  // No role was recorded on these: the echo of a successful send is matched by the id the POST returned,
  // the echo of the failed (502) one by the user id the client posted as; everything else is the bot.
  assert.deepEqual(
    t.map((a) => a.from!.role),
    ['bot', 'user', 'user', 'bot'],
  );
  assert.equal(t[0].recipient!.id, 'r_k2j3h4g5');
  assert.equal(t[1].recipient!.id, 'pizza-bot');
});

test('without a conversation: all of them, one conversation after the other; prefixes select one', () => {
  const c = scenario().build();
  assert.deepEqual(transcriptConversations(c), [WS_CONV, POLL_CONV]);
  const all = toTranscript(c);
  assert.equal(all.length, SCENARIO.wsActivities + SCENARIO.pollActivities);
  const convs = all.map((a) => (a.conversation as { id: string }).id);
  assert.deepEqual(convs, [...Array(SCENARIO.wsActivities).fill(WS_CONV), ...Array(SCENARIO.pollActivities).fill(POLL_CONV)]);
  assert.equal(toTranscript(c, { conversation: 'ZyX' }).length, SCENARIO.pollActivities);
  assert.equal(toTranscript(c, { conversation: 'nope' }).length, 0);
});

test('the cassette is not modified', () => {
  const c = scenario().build();
  const before = JSON.stringify(c);
  const t = toTranscript(c);
  t[0].from!.role = 'changed';
  assert.equal(JSON.stringify(c), before);
});

test('a sent activity whose echo never came is added where it was sent (unless turned off)', () => {
  const C = 'Q1w2E3r4T5y6U7i8O9p0Aa-us';
  const b = new CassetteBuilder();
  b.http({ t: 0, route: 'conversations.start', method: 'POST', path: '/conversations', status: 201, response: { conversationId: C } });
  b.http({
    t: 100,
    route: 'activities.get',
    method: 'GET',
    path: `/conversations/${C}/activities`,
    conversationId: C,
    response: { activities: [{ type: 'message', id: `${C}|0000000`, from: { id: 'bot' }, text: 'hi' }], watermark: '0' },
  });
  b.http({
    t: 200,
    route: 'activities.post',
    method: 'POST',
    path: `/conversations/${C}/activities`,
    conversationId: C,
    duration: 50,
    body: { type: 'message', text: 'last words', from: { id: 'u1' } },
    response: { id: `${C}|0000001` },
  });
  const c = b.build();
  const t = toTranscript(c);
  assert.deepEqual(
    t.map((a) => [a.id, a.from!.role, a.text]),
    [
      [`${C}|0000000`, 'bot', 'hi'],
      [`${C}|0000001`, 'user', 'last words'],
    ],
  );
  assert.equal(t[1].timestamp, '2026-06-12T12:53:39.250Z', 'no timestamp recorded: when the send completed');
  assert.deepEqual(t[1].conversation, { id: C });
  assert.equal(toTranscript(c, { includeUnechoed: false }).length, 1);
});
