// What a comparison does not see: placeholder numbers, conversation and activity ids, timestamps, the
// upstream's private URLs, ignored paths; what it keeps: the compared fields, __proto__ keys as data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ActivityNormaliser } from '../../src/diff/normalise.js';

const conv = 'FBfSabcdefghij0123456-us';
const n = new ActivityNormaliser(
  ['channelData.trace', 'activities[*].value.nonce'],
  [{ conversationIds: [conv], upstreamOrigin: 'https://directline.botframework.com' }],
);

test('normalise: run-specific values become markers, only compared fields stay', () => {
  const v = n.view({
    type: 'message',
    id: `${conv}|0000004`,
    timestamp: '2026-06-12T12:53:39.4222445Z',
    from: { id: 'bot', role: 'bot' },
    replyToId: `${conv}|0000003`,
    conversation: { id: conv },
    text: `In ${conv} your token is DLVCR_TOKEN_12`,
    speak: 'hi',
    inputHint: 'acceptingInput',
    localTimestamp: 'x',
    attachments: [{ contentType: 'image/png', contentUrl: 'https://directline.botframework.com/attachments/abc/0?t=1', name: 'p.png' }],
    channelData: { streamId: `${conv}|0000002`, at: '2026-01-01T10:00:00Z', trace: 'drop me', keep: 1 },
    value: { nonce: 'drop', other: 'wss://directline.botframework.com/x', since: '2025-12-31 23:59' },
  });
  assert.deepEqual(v, {
    type: 'message',
    text: 'In <conversation> your token is DLVCR_TOKEN',
    speak: 'hi',
    inputHint: 'acceptingInput',
    attachments: [{ contentType: 'image/png', contentUrl: '<upstream URL>', name: 'p.png' }],
    channelData: { streamId: '<activity>', at: '<timestamp>', keep: 1 },
    value: { other: '<upstream URL>', since: '<timestamp>' },
  });
});

test("normalise: other hosts, __proto__ keys, deep nesting and a user view without the client's channelData", () => {
  const value = JSON.parse('{"__proto__":{"x":"https://example.com/a"}}');
  let deep: unknown = 'x';
  for (let i = 0; i < 400; i++) deep = [deep];
  const v = n.view({ type: 'event', name: 'ping', value, channelData: deep } as never);
  assert.deepEqual(Object.keys(v.value as object), ['__proto__']);
  assert.equal(JSON.stringify(v.value), '{"__proto__":{"x":"https://example.com/a"}}');
  assert.match(JSON.stringify(v.channelData), /nested too deep to compare/);
  const u = n.userView({
    type: 'message',
    text: 'hi',
    channelData: { clientActivityID: 'r4nd0m' },
    attachments: [{ contentType: 'text/plain', name: 'a.txt', contentUrl: 'blob:x' }],
  });
  assert.deepEqual(u, { type: 'message', text: 'hi', attachments: [{ contentType: 'text/plain', name: 'a.txt' }] });
});
