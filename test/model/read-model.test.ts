// The read model: one grouping rule, sockets inside their conversation, deliveries, causes, echoes, roles
// and placeholder kinds, built once per cassette object.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateCassette } from '../../src/cassette/load.js';
import type { Cassette } from '../../src/cassette/schema.js';
import { readModel } from '../../src/model/index.js';
import { CassetteBuilder, ConversationScript, POLL_CONV, WS_CONV, WS_TEXTS, pollingCassette, wsCassette } from '../replay/fixtures.js';

describe('read model', () => {
  it('puts a WebSocket conversation with its sockets, deliveries and causes together', () => {
    const cassette = wsCassette();
    const m = readModel(cassette);
    assert.equal(readModel(cassette), m, 'built once per cassette object');
    assert.equal(m.conversations.length, 1);
    const [c] = m.conversations;
    assert.equal(c.id, WS_CONV);
    assert.equal(c.events.length, cassette.events.length, 'every event belongs to the conversation');
    assert.equal(c.firstRoute, 'tokens.generate');
    assert.equal(c.sockets.length, 1);
    assert.equal(c.sockets[0].ordinal, 1);
    assert.ok(c.sockets[0].frames.length >= 10);
    const texts = c.log.filter((a) => !a.typing).map((a) => a.activity.text);
    assert.deepEqual(texts, WS_TEXTS);
    // The welcome follows the stream open; "You said: hello" follows the POST of "hello", which is its echo's cause too.
    const byText = (t: string) => c.log.find((a) => a.activity.text === t)!;
    assert.equal(byText('Welcome to the emulator bot!').cause.kind, 'attach');
    const hello = byText('hello');
    assert.equal(hello.role, 'user');
    assert.ok(hello.echoOf, 'the echo knows its send');
    assert.equal(hello.cause.kind, 'request');
    const replyCause = byText('You said: hello').cause;
    assert.equal(replyCause.kind === 'request' ? replyCause.index : -1, hello.echoOf!.index);
    assert.equal(byText('You said: hello').role, 'bot');
    assert.equal(m.placeholderKind('DLVCR_STREAMTOKEN_1'), 'streamToken');
    assert.equal(m.placeholderKind('not a placeholder'), undefined);
  });

  it('reads a polling conversation: deliveries are polls, each activity once', () => {
    const m = readModel(pollingCassette());
    const [c] = m.conversations;
    assert.equal(c.id, POLL_CONV);
    assert.ok(c.deliveries.every((d) => d.via === 'poll' && d.socket === null));
    assert.equal(c.log.length, 5);
    assert.equal(c.userId, 'dl_recorded-user');
  });

  it('groups by stamp, socket, path and response body, with unattached exchanges standing alone', () => {
    const b = new CassetteBuilder();
    const c = new ConversationScript(b, 'GrOuPiNgAAAAAAAAAAAAAA-us');
    // A refused generate ties to nothing; a generate whose response names its conversation joins it.
    b.http({
      t: 0,
      conversationId: null,
      route: 'tokens.generate',
      method: 'POST',
      path: '/tokens/generate',
      status: 403,
      response: { error: { code: 'BadArgument', message: 'no' } },
      duration: 5,
    });
    b.http({
      t: 10,
      conversationId: null,
      route: 'tokens.generate',
      method: 'POST',
      path: '/tokens/generate',
      response: { conversationId: c.id, token: 'DLVCR_TOKEN_1' },
      duration: 5,
    });
    c.start(20);
    const socket = c.open(50);
    c.frame(60, [c.bot('hi')], '0');
    const cassette = b.build();
    // Remove the stamps of the stream events: the socket and the path must still place them.
    const raw = structuredClone(cassette) as Cassette;
    for (const e of raw.events) if (e.type !== 'http') e.conversationId = null;
    const m = readModel(validateCassette(raw));
    assert.deepEqual(
      m.conversations.map((x) => x.id),
      [null, c.id],
    );
    assert.equal(m.conversations[0].exchanges[0].event.response?.status, 403);
    const conv = m.conversations[1];
    assert.equal(conv.exchanges.length, 2, 'the generate that named the conversation is in it');
    assert.equal(conv.sockets[0].socket, socket);
    assert.equal(conv.log[0].activity.text, 'hi');
    assert.equal(m.conversationOf(raw.events.length - 1), conv);
  });

  it('orders sockets by handshake and gives frames without one the next ordinal', () => {
    const b = new CassetteBuilder();
    const c = new ConversationScript(b, 'SoCkEtSAAAAAAAAAAAAAAA-us');
    c.start(0);
    const first = c.open(10);
    c.close(20, 'server', 1011);
    const second = c.open(30);
    const cassette = b.build();
    cassette.events.push({ type: 'ws.message', t: 40, conversationId: c.id, socket: 99, from: 'server', data: { text: '' } });
    const [conv] = readModel(cassette).conversations;
    assert.deepEqual(
      conv.sockets.map((s) => [s.socket, s.ordinal]),
      [
        [first, 1],
        [second, 2],
        [99, 3],
      ],
    );
    assert.equal(conv.sockets[0].close?.event.code, 1011);
    assert.equal(conv.sockets[2].open, null);
  });
});
