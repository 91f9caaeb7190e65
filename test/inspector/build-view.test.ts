// The page's rows come from the read model: one row per conversation event, on its lane, bot activities
// tied to the client action that caused them, the chat as the user saw it, stable keys while a cassette grows.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadCassette } from '../../src/cassette/load.js';
import type { Cassette } from '../../src/cassette/schema.js';
import { readModel } from '../../src/model/index.js';
import { cassetteRows, EventIds, oneLine } from '../../src/inspector/build-view.js';
import { InspectorData } from '../../src/inspector/data.js';

const DEMO = fileURLToPath(new URL('../../recordings/demo.json', import.meta.url));

describe('cassetteRows', () => {
  it("gives every conversation event one row, on the HTTP lane or its socket's", async () => {
    const c = await loadCassette(DEMO);
    const model = readModel(c);
    const { conversations, rows } = cassetteRows(c, 0, 'demo.json', new EventIds());
    assert.equal(conversations.length, model.conversations.length);
    assert.equal(
      rows.length,
      model.conversations.reduce((n, conv) => n + conv.events.length, 0),
    );
    for (const conv of conversations) {
      const sockets = model.conversations.find((m) => m.id === conv.id)!.sockets.length;
      assert.equal(conv.lanes.length, sockets + 1, 'an HTTP lane and one per socket');
    }
    assert.ok(rows.filter((r) => r.kind === 'http').every((r) => r.lane === 0));
    assert.ok(rows.filter((r) => r.kind === 'frame' || r.kind === 'keepalive').every((r) => r.lane >= 1));
  });

  it('links each bot reply to the post it followed, with the recorded wait', async () => {
    const c = await loadCassette(DEMO);
    const model = readModel(c);
    const ids = new EventIds();
    const { rows } = cassetteRows(c, 0, 'demo.json', ids);
    const byKey = new Map(rows.map((r) => [r.key, r]));
    let checked = 0;
    for (const conv of model.conversations) {
      for (const a of conv.log) {
        if (a.role !== 'bot' || a.cause.kind !== 'request' || a.activity.type !== 'message') continue;
        const row = byKey.get(ids.keyOf(0, c.events[a.delivery.index]))!;
        if (row.text.includes(' activities: ')) continue; // a frame with several activities takes its first one's cause
        const cause = byKey.get(row.cause!)!;
        assert.equal(cause.kind, 'http');
        assert.equal(cause.turn, true, 'the cause is a turn');
        assert.equal(row.wait, Math.round((a.delivery.event.t - a.cause.t) * 1000) / 1000);
        checked++;
      }
    }
    assert.ok(checked >= 3, `checked ${checked} replies`);
  });

  it('lists what the user saw: distinct activities without typing, with roles', async () => {
    const c = await loadCassette(DEMO);
    const model = readModel(c);
    const { chat: chatOf, conversations } = cassetteRows(c, 0, 'demo.json', new EventIds());
    const chat = chatOf(conversations[0].key)!;
    const expected = model.conversations[0].log.filter((a) => !a.typing);
    assert.deepEqual(
      chat.map((x) => [x.role, x.text]),
      expected.map((a) => [a.role, a.activity.text]),
    );
    assert.ok(chat.some((x) => x.role === 'user') && chat.some((x) => x.role === 'bot'));
    assert.equal(conversations[0].chat, chat.length);
  });

  it('keeps row keys while a live cassette grows by inserts', async () => {
    const full = await loadCassette(DEMO);
    const live: Cassette = { ...full, events: full.events.filter((e) => e.type !== 'http' || e.route !== 'tokens.generate') };
    const data = new InspectorData('t', 'record', false);
    const ci = data.addCassette(live, 'live.json', true);
    const before = data.view().rows.map((r) => r.key);
    live.events.unshift(full.events.find((e) => e.type === 'http' && e.route === 'tokens.generate')!);
    data.touch(ci);
    const after = data.view().rows;
    assert.equal(after.length, before.length + 1);
    // Every existing row keeps its key (and its place); only the inserted one is new.
    assert.deepEqual(
      after.slice(1).map((r) => r.key),
      before,
      'an existing row keeps its key',
    );
    const detail = data.detail(after[0].key)!;
    assert.equal((detail.event as { route: string }).route, 'tokens.generate');
    assert.deepEqual(detail.placeholders, full.redaction.placeholders);
  });

  it('shows each row text on one line, cut with an ellipsis only when it is longer than the room', () => {
    assert.equal(oneLine('hello there', 20), 'hello there');
    assert.equal(oneLine('  two\n lines\tand  tabs ', 40), 'two lines and tabs');
    assert.equal(oneLine('a'.repeat(30), 10), `${'a'.repeat(9)}…`);
    // Longer than the head looked at first, but mostly whitespace: folded whole, nothing cut.
    assert.equal(oneLine(`${' '.repeat(100)}short${' '.repeat(100)}end`, 20), 'short end');
    // A long text with a line break far past the room: the cut is the same as folding it all.
    const long = `${'word '.repeat(50)}\n${'tail '.repeat(50)}`;
    assert.equal(oneLine(long, 30), `${long.replace(/\s+/g, ' ').trim().slice(0, 29).trimEnd()}…`);
  });
});
