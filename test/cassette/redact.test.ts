// Redactor.text: known secrets are replaced inside longer strings; the fast paths (too short for any known
// secret, no "eyJ" for a JWT) change nothing that the full search would have replaced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redactor } from '../../src/cassette/redact.js';

test('a known secret is replaced wherever it appears; strings too short to hold one come back as they are', () => {
  const r = new Redactor();
  const secret = 'Sx7Qk2P9vLm4Tz8Rw1Yb5Nc3'; // 24 characters
  const placeholder = r.value(secret, 'secret');
  assert.equal(r.text(`the key is ${secret}, keep it`), `the key is ${placeholder}, keep it`);
  assert.equal(r.text(secret), placeholder);
  const short = 'hello there, friend!'; // 20 < 24: cannot hold it
  assert.equal(r.text(short), short);
  // A shorter secret learnt later lowers the bar: a 12-character one is found in a 20-character string.
  const p2 = r.value('K9m2X7q4Z1w8', 'secret');
  assert.equal(r.text('key=K9m2X7q4Z1w8 ok'), `key=${p2} ok`);
});

test('JWT-shaped tokens are replaced; text without "eyJ" is untouched', () => {
  const r = new Redactor();
  const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlLXBhcnQ';
  const out = r.text(`Bearer-ish ${jwt} inside`);
  assert.match(out, /^Bearer-ish DLVCR_TOKEN_1 inside$/);
  assert.equal(r.text('plain words and numbers 1234567890'), 'plain words and numbers 1234567890');
});

// Redactor.frame's fast path: a frame kept as its compact text (encodeFrame) comes back untouched only when the
// full walk would have changed nothing; otherwise the walk runs. Either way the result is what the walk makes of
// the parsed frame.
test('a stream frame kept as text is redacted exactly as its parsed form would be', async () => {
  const { encodeFrame, readableEvent } = await import('../../src/cassette/body.js');
  const { eventJson } = await import('../../src/cassette/serialize.js');
  const secret = 'Sx7Qk2P9vLm4Tz8Rw1Yb5Nc3';
  const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlLXBhcnQ';
  const frames: Array<[string, boolean]> = [
    ['{"activities":[{"type":"message","text":"hello there","channelData":{"seq":1,"sentAt":1764627045123.456}}],"watermark":"1"}', true],
    ['{"activities":[{"type":"message","text":"trailing zero","channelData":{"sentAt":1764627045123.450}}]}', true],
    [`{"activities":[{"type":"message","text":"the key is ${secret}"}]}`, false],
    [`{"activities":[{"text":"${jwt}"}]}`, false],
    ['{"activities":[{"text":"short"}]}', false], // a short secret as a whole string
    ['{"activities":[{"text":"not short at all"}]}', true],
    ['{"token":"abc12345xyz"}', false],
    ['{"Access_Token":"abc12345xyz"}', false],
    ['{"to\u212Aen":"abc12345xyz"}', false], // toLowerCase() makes the Kelvin sign a k
    ['{"streamUrl":"wss://x/stream?watermark=1&a=b"}', false],
    ['{"url":"wss://x/stream?t=abcdef123456"}', false],
    ['{"text":"an escaped \\u0041 letter"}', false],
  ];
  const learn = (r: Redactor) => {
    r.value(secret, 'secret');
    r.value('short', 'custom');
  };
  for (const [text, clean] of frames) {
    const fast = new Redactor();
    const slow = new Redactor();
    learn(fast);
    learn(slow);
    const data = encodeFrame(Buffer.from(text), false);
    const got = fast.frame(data);
    const parsed = JSON.parse(text) as unknown;
    const want = slow.frame(JSON.stringify(parsed) === text ? { json: parsed } : { json: parsed, text });
    const ev = (d: typeof got) => ({
      type: 'ws.message' as const,
      t: 1.5,
      conversationId: 'c',
      socket: 0,
      from: 'server' as const,
      data: d,
    });
    assert.equal(eventJson(ev(got)), JSON.stringify(ev(want)), `the cassette line of ${text}`);
    assert.deepEqual(readableEvent(ev(got)), ev(want), `the event as read of ${text}`);
    assert.equal(got === data, clean, `${text} ${clean ? 'is left alone' : 'is walked'}`);
    assert.deepEqual(fast.placeholders, slow.placeholders, `the same placeholders for ${text}`);
  }
});

test('custom JSON rules always take the walk (the text alone cannot tell)', async () => {
  const { encodeFrame } = await import('../../src/cassette/body.js');
  const r = new Redactor({ jsonKeys: ['apiKey'] });
  const text = '{"channelData":{"apiKey":"k-123"},"text":"hi"}';
  assert.equal(r.leavesAlone(text), false);
  const out = r.frame(encodeFrame(Buffer.from(text), false)) as { json: { channelData: { apiKey: string } } };
  assert.match(out.json.channelData.apiKey, /^DLVCR_/);
});
