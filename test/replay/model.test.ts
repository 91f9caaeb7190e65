// Units: what a recorded conversation becomes (activity log, watermarks, causes, stream items), the
// release scheduler, substitution and multipart matching.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Catalog } from '../../src/replay/catalog.js';
import { ATTACH_CAUSE, SESSION_CAUSE } from '../../src/replay/conversation-model.js';
import { ReleaseScheduler } from '../../src/replay/scheduler.js';
import { Substituter } from '../../src/replay/substitute.js';
import { compareShapes, shapeOf } from '../../src/replay/matcher.js';
import { CassetteBuilder, ConversationScript, multipartBody, pollingCassette, wsCassette } from './fixtures.js';
import { sleep } from '../support/async.js';

describe('conversation model', () => {
  it('builds the activity log, watermarks, causes and stream items of a stream recording', () => {
    const cassette = wsCassette({ serverClose: true });
    const [m] = new Catalog(cassette).models;
    assert.equal(m.firstRoute, 'tokens.generate');
    assert.equal(m.log.length, 13);
    assert.deepEqual(
      m.log.map((e) => e.watermark ?? null),
      ['0', '1', null, '3', '4', null, '6', 'vcr-7', '8', '9', '10', '11', '12'],
    );
    assert.ok(m.log.filter((e) => e.typing).length === 2);
    const kinds = m.items.map((i) => i.kind);
    assert.equal(kinds.filter((k) => k === 'keepalive').length, 3);
    assert.deepEqual(
      m.items.filter((i) => i.kind === 'close').map((i) => i.kind === 'close' && [i.ordinal, i.code, i.reason]),
      [[1, 4001, 'collision']],
    );
    const welcome = m.items[m.log[0].item];
    assert.equal(welcome.cause, ATTACH_CAUSE);
    assert.equal(welcome.delay, 60);
    const reply = m.items[m.log.find((e) => e.activity.text === 'You said: hello')!.item];
    assert.match(reply.cause, /^http:\d+$/);
    assert.equal(reply.delay, 500);
    assert.equal(m.sockets.length, 2);
    assert.equal(m.requests.get('activities.post')!.length, 4);
    assert.equal(m.userId, 'dl_recorded-user');
    // the keep-alive of the second socket belongs to ordinal 2
    const lastKeepAlive = m.items.filter((i) => i.kind === 'keepalive').at(-1)!;
    assert.equal(lastKeepAlive.kind === 'keepalive' && lastKeepAlive.ordinal, 2);
  });

  it('dedups activities seen on the stream and by polls; an echo never precedes its POST', () => {
    const b = new CassetteBuilder();
    const c = new ConversationScript(b, 'MiXeDAAAAAAAAAAAAAAAAA-us');
    c.start(0, { bearer: 'DLVCR_SECRET_1' });
    c.open(50);
    const welcome = c.bot('hi');
    c.frame(60, [welcome], '0');
    c.poll(70, '', [welcome], '0');
    // a poll that started 5 ms before the POST returned its echo
    const echoTemplate = { type: 'message', text: 'x', id: `${c.id}|0000001`, from: { id: 'u' } };
    c.poll(195, '0', [echoTemplate], '1', 30);
    const posted = c.post(200, 'x', { duration: 20 });
    assert.equal(posted.id, echoTemplate.id);
    const [m] = new Catalog(b.build()).models;
    assert.equal(m.log.length, 2, 'the welcome is logged once');
    const echoItem = m.items[m.log[1].item];
    assert.match(echoItem.cause, /^http:/);
    // The echo reached the client with that poll's answer (at 225) and was read 10 ms later (POLL_READ_MS).
    assert.equal(echoItem.delay, 35, 'the echo counts from its POST to the read poll answer');
    assert.equal(echoItem.earliest, 0, 'a polling client may have it at once: the poll was under way when the POST came');
  });

  it('a polling recording: one item per activity, delays to the answer of the poll that found it', () => {
    const [m] = new Catalog(pollingCassette()).models;
    assert.equal(m.firstRoute, 'conversations.start');
    assert.deepEqual(
      m.log.map((e) => e.watermark),
      ['0', 'vcr-1', '2', 'vcr-3', '4'],
    );
    assert.equal(m.items.length, 5);
    assert.equal(m.items[0].cause, ATTACH_CAUSE);
    assert.equal(m.items[0].delay, 22); // the first poll (60, 12 ms) found the welcome; read 10 ms later
    assert.equal(m.items[1].delay, 322); // POST at 1200, the poll at 1500 answered at 1512, read at 1522
    // A polling client gets it halfway between its cause (the last empty poll, at 1060, answered before the POST)
    // and the poll that returned it: at the recorded cadence that is the same poll.
    assert.equal(m.items[1].earliest, 150);
    assert.equal(m.pollHeaders?.['content-type'], 'application/json; charset=utf-8');
  });

  it('a request never tied to a conversation stands alone', () => {
    const b = new CassetteBuilder();
    b.http({
      t: 0,
      conversationId: null,
      route: 'tokens.generate',
      method: 'POST',
      path: '/tokens/generate',
      bearer: 'DLVCR_SECRET_1',
      status: 403,
      response: { error: { code: 'BadArgument', message: 'no' } },
      duration: 5,
    });
    const c = new ConversationScript(b, 'OkAAAAAAAAAAAAAAAAAAAA-us');
    c.generate(10);
    const catalog = new Catalog(b.build());
    assert.equal(catalog.models.length, 2);
    assert.equal(catalog.next('tokens.generate')!.recordedId, null);
    assert.equal(catalog.next('tokens.generate')!.recordedId, c.id);
    assert.equal(catalog.next('tokens.generate')!.recordedId, null, 'cycling');
    assert.equal(catalog.next('conversations.start'), undefined);
    assert.equal(SESSION_CAUSE, 'session');
  });
});

describe('release scheduler', () => {
  it('releases in order, waits for causes, never before the previous item (instant)', () => {
    const released: number[] = [];
    const s = new ReleaseScheduler(
      [
        { cause: 'a', delay: 10 },
        { cause: 'b', delay: 0 },
        { cause: 'a', delay: 20 },
      ],
      0,
      (i) => released.push(i),
    );
    s.causeHappened('b', 0);
    assert.deepEqual(released, [], 'item 0 waits for a, so everything after it waits');
    s.causeHappened('a', 0);
    assert.deepEqual(released, [0, 1, 2]);
    s.dispose();
  });

  it('times releases from the live cause at the given speed', async () => {
    const released: Array<[number, number]> = [];
    const t0 = performance.now();
    const s = new ReleaseScheduler(
      [
        { cause: 'a', delay: 80 },
        { cause: 'a', delay: 40 },
        { cause: 'a', delay: 120 },
      ],
      2,
      (i) => released.push([i, performance.now() - t0]),
    );
    s.causeHappened('a', t0);
    await sleep(120);
    assert.deepEqual(
      released.map(([i]) => i),
      [0, 1, 2],
    );
    assert.ok(Math.abs(released[0][1] - 40) < 15, `first at ${released[0][1]}`);
    assert.ok(released[1][1] >= released[0][1], 'an earlier-due item still waits for the previous one');
    assert.ok(Math.abs(released[2][1] - 60) < 15, `third at ${released[2][1]}`);
    s.dispose();
  });
});

describe('substitution', () => {
  it('replaces conversation ids (also inside activity ids), placeholders, the user id and streamUrls', () => {
    const minted = new Map<string, string>();
    const sub = new Substituter({
      recordedConversationId: 'REC-us',
      liveConversationId: 'REC-us_7',
      recordedUserId: 'dl_rec',
      token: (p) => {
        if (!minted.has(p)) minted.set(p, `tok${minted.size + 1}`);
        return minted.get(p)!;
      },
      streamUrl: (u, wm) => `ws://replay/stream?wm=${wm ?? 'rec'}&recorded=${u.includes('REC-us/stream')}`,
    });
    sub.liveUserId = 'dl_live';
    const out = sub.json(
      {
        id: 'REC-us|0000003',
        conversation: { id: 'REC-us' },
        token: 'DLVCR_TOKEN_2',
        from: { id: 'dl_rec', name: 'dl_rec' },
        text: 'hello dl_rec',
        auth: 'Bearer DLVCR_TOKEN_2',
        streamUrl: 'wss://x/conversations/REC-us/stream?t=DLVCR_STREAMTOKEN_1',
      },
      '5',
    );
    assert.deepEqual(out, {
      id: 'REC-us_7|0000003',
      conversation: { id: 'REC-us_7' },
      token: 'tok1',
      from: { id: 'dl_live', name: 'dl_rec' },
      text: 'hello dl_rec',
      auth: 'Bearer tok1',
      streamUrl: 'ws://replay/stream?wm=5&recorded=true',
    });
  });
});

describe('upload matching', () => {
  it('compares multipart parts, not bytes', () => {
    const mk = (boundary: string, filename: string, text: string) =>
      multipartBody(boundary, [
        { name: 'activity', contentType: 'application/vnd.microsoft.activity', body: JSON.stringify({ type: 'message', text }) },
        { name: 'file', filename, contentType: 'image/png', body: 'PNG' },
      ]);
    const rec = shapeOf('upload', mk('aaa', 'cat.png', 'look'), 'multipart/form-data; boundary=aaa');
    assert.equal(
      compareShapes('upload', shapeOf('upload', mk('bbb', 'cat.png', 'look'), 'multipart/form-data; boundary="bbb"'), rec),
      null,
    );
    assert.match(
      compareShapes('upload', shapeOf('upload', mk('bbb', 'dog.png', 'look'), 'multipart/form-data; boundary=bbb'), rec)!,
      /dog\.png/,
    );
    assert.match(
      compareShapes('upload', shapeOf('upload', mk('bbb', 'cat.png', 'other'), 'multipart/form-data; boundary=bbb'), rec)!,
      /other/,
    );
    // boundary recovered from the body when the header is missing
    assert.equal(compareShapes('upload', shapeOf('upload', mk('ccc', 'cat.png', 'look'), undefined), rec), null);
  });
});
