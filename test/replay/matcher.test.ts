// --match loose (demos only) against the default strict matching, through a real replay server: a message
// whose text the cassette does not have is a 400 ReplayMismatch under strict, and under loose it is answered
// as the next recorded message turn (the echo shows what was typed, the recorded reply follows); a post of
// another type still does not match, and strict stays the default.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CassetteBuilder } from '../../src/import/cassette-builder.js';
import { matchDecision } from '../../src/replay/matcher.js';
import { startReplayer } from '../../src/replay/index.js';
import { call } from '../support/http.js';
import { startConversation, StreamClient, userMessage } from './helpers.js';

function twoTurns() {
  const b = new CassetteBuilder({ source: { kind: 'import', from: 'script', file: 'talk.yaml' }, seed: 'loose' });
  b.botSays({ text: 'Say Hello' });
  b.userSays({ type: 'message', text: 'Hello' });
  b.botSays({ text: 'Hello to you' }, { delay: 50 });
  b.userSays({ type: 'message', text: 'Bye' });
  b.botSays({ text: 'Goodbye' }, { delay: 50 });
  return b.build();
}

const post = (domain: string, conv: { conversationId: string; token: string }, activity: unknown) =>
  call(domain, 'POST', `/conversations/${conv.conversationId}/activities`, { bearer: conv.token, body: activity });

test('matchDecision: loose lets any message take a recorded message turn, nothing else', () => {
  const msg = (text: string) => ({ summary: { type: 'message', text } });
  assert.match(
    matchDecision('activities.post', msg('hi there'), msg('Hello'), 'strict')!,
    /activity text "hi there" differs from the recorded "Hello"/,
  );
  assert.equal(matchDecision('activities.post', msg('hi there'), msg('Hello'), 'loose'), null);
  assert.match(
    matchDecision('activities.post', { summary: { type: 'event', text: '', name: 'x' } }, msg('Hello'), 'loose')!,
    /activity type "event" differs/,
  );
});

test('strict (the default) refuses an unrecorded text with a ReplayMismatch naming the imported file', async () => {
  const replayer = await startReplayer({ cassette: twoTurns(), speed: 0 });
  try {
    const conv = await startConversation(replayer.domain);
    const r = await post(replayer.domain, conv, userMessage('hi there', conv.userId, 'c1'));
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, 'ReplayMismatch');
    assert.equal(r.json.replay.expected.activity.text, 'Hello');
    assert.match(r.json.replay.hint, /imported from talk\.yaml: change it there and run directline-vcr import talk\.yaml/);
  } finally {
    await replayer.close();
  }
});

test('loose answers any message as the next recorded turn', async () => {
  const replayer = await startReplayer({ cassette: twoTurns(), speed: 0, match: 'loose' });
  try {
    const conv = await startConversation(replayer.domain);
    const stream = new StreamClient(conv.streamUrl);
    await stream.opened;
    await stream.arrivalOf('Say Hello');
    assert.equal((await post(replayer.domain, conv, userMessage('hi there', conv.userId, 'c1'))).status, 200);
    await stream.arrivalOf('Hello to you');
    assert.equal((await post(replayer.domain, conv, userMessage('see you', conv.userId, 'c2'))).status, 200);
    await stream.arrivalOf('Goodbye');
    assert.deepEqual(stream.texts(), ['Say Hello', 'hi there', 'Hello to you', 'see you', 'Goodbye'], 'echoes carry what was typed');
    const third = await post(replayer.domain, conv, userMessage('one more', conv.userId, 'c3'));
    assert.equal(third.status, 404, 'past the last recorded turn there is nothing to answer with');
    stream.close();
  } finally {
    await replayer.close();
  }
  await assert.rejects(startReplayer({ cassette: twoTurns(), match: 'fuzzy' as 'strict' }), /match must be 'strict' or 'loose'/);
});
