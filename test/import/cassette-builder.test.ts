// The cassette builder writes what the recorder writes: a valid cassette (schema and published JSON Schema)
// laid out as a recording (token, start with streamUrl, stream, frames with watermarks, posts with echoes,
// attachment GETs, placeholders for every token), which a replay serves like a recorded one: over the
// WebSocket and to polling, echoes with the live client's values, the image from the cassette, causal timing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { validateCassette } from '../../src/cassette/load.js';
import { cassetteJsonSchema } from '../../src/cassette/json-schema.js';
import type { HttpEvent } from '../../src/cassette/schema.js';
import { CassetteBuilder, IMPORT_ORIGIN } from '../../src/import/cassette-builder.js';
import { startReplayer } from '../../src/replay/index.js';
import { scanText } from '../../src/scan/scan.js';
import { startConversation, StreamClient, userMessage } from '../replay/helpers.js';
import { call } from '../support/http.js';
import { DEMO_PNG } from './fixtures.js';

const require = createRequire(import.meta.url);

function demoBuilder(): CassetteBuilder {
  const b = new CassetteBuilder({
    source: { kind: 'import', from: 'script', file: 'x.yaml' },
    seed: 'builder test',
    createdAt: new Date('2026-01-01T00:00:00Z'),
  });
  b.botSays({ text: 'Welcome!', suggestedActions: { actions: [{ type: 'imBack', title: 'Hello', value: 'Hello' }] } }, { delay: 100 });
  b.userSays({ type: 'message', text: 'Hello' }, { delay: 1000 });
  b.botSays({ type: 'typing' }, { delay: 50 });
  const png = readFileSync(DEMO_PNG);
  b.botSays(
    {
      text: 'A picture',
      attachments: [{ contentType: 'image/png', contentUrl: b.attachmentUrl(png, 'image/png', 'lisbon.png'), name: 'lisbon.png' }],
    },
    { delay: 400 },
  );
  return b;
}

test('a built cassette is valid and laid out like a recording', () => {
  const c = validateCassette(demoBuilder().build());
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  (require('ajv-formats') as (a: Ajv2020) => Ajv2020)(ajv);
  const validate = ajv.compile(cassetteJsonSchema());
  assert.ok(validate(c), JSON.stringify(validate.errors));

  assert.deepEqual(c.source, { kind: 'import', from: 'script', file: 'x.yaml' });
  const kinds = c.events.map((e) => (e.type === 'http' ? e.route : e.type));
  assert.deepEqual(kinds, [
    'tokens.generate',
    'conversations.start',
    'ws.open',
    'ws.message',
    'activities.post',
    'ws.message',
    'ws.message',
    'ws.message',
    'attachment',
  ]);
  const start = c.events[1] as HttpEvent;
  assert.equal(start.response?.status, 201);
  const body = (start.response!.body as { json: { streamUrl: string; conversationId: string } }).json;
  assert.match(
    body.streamUrl,
    new RegExp(
      /^wss:\/\/import\.directline-vcr\.invalid\/v3\/directline\/conversations\//.source +
        /imported-[0-9a-f]{12}\/stream\?watermark=-&t=DLVCR_STREAMTOKEN_1$/.source,
    ),
  );

  // Frames: one activity each; watermark = position, none on typing; the echo carries the post's id.
  const frames = c.events
    .filter((e) => e.type === 'ws.message')
    .map((e) => (e as { data: { json: { activities: any[]; watermark?: string } } }).data.json);
  assert.deepEqual(
    frames.map((f) => f.watermark),
    ['0', '1', undefined, '3'],
  );
  const post = c.events[4] as HttpEvent;
  assert.equal((post.response!.body as { json: { id: string } }).json.id, frames[1].activities[0].id);
  assert.deepEqual((post.request.body as { json: unknown }).json, { type: 'message', text: 'Hello', from: { id: 'user', name: 'You' } });
  assert.equal(frames[1].activities[0].from.role, 'user');
  assert.equal(
    frames[3].activities[0].attachments[0].contentUrl,
    `${IMPORT_ORIGIN}/attachments/${(c.events[8] as HttpEvent).request.path.split('/')[2]}/lisbon.png`,
  );

  // Times: the reply's delay is measured from the post (its cause), events never go back in time.
  const t = c.events.map((e) => e.t);
  assert.deepEqual(
    [...t].sort((a, b) => a - b),
    t,
  );
  assert.equal(c.events[7].t - c.events[5].t, 450);

  // Every token is a placeholder the table lists, and nothing looks like a secret.
  const text = JSON.stringify(c);
  const used = new Set(text.match(/DLVCR_[A-Z]+_\d+/g));
  assert.deepEqual([...used].sort(), Object.keys(c.redaction.placeholders).sort());
  assert.deepEqual(scanText(text), []);
});

test('the same input builds the same cassette', () => {
  assert.deepEqual(demoBuilder().build(), demoBuilder().build());
});

test('replay serves a built cassette over the WebSocket and to polling, with live echoes, the image and causal timing', async () => {
  const replayer = await startReplayer({ cassette: demoBuilder().build(), speed: 1 });
  try {
    const conv = await startConversation(replayer.domain, { userId: 'live-user' });
    assert.equal(conv.started.status, 201);
    const stream = new StreamClient(conv.streamUrl);
    await stream.opened;
    await stream.arrivalOf('Welcome!');
    const sent = await call(replayer.domain, 'POST', `/conversations/${conv.conversationId}/activities`, {
      bearer: conv.token,
      body: userMessage('Hello', 'live-user', 'client-1'),
    });
    assert.equal(sent.status, 200);
    await stream.arrivalOf('A picture');
    const echo = stream.frames.find((f) => f.json?.activities[0]?.text === 'Hello')!.json!.activities[0];
    assert.equal(echo.id, sent.body.id);
    assert.equal(echo.channelData?.clientActivityID, 'client-1');
    assert.equal(echo.from?.id, 'live-user');
    const reply = stream.frames.find((f) => f.json?.activities[0]?.text === 'A picture')!;
    assert.ok(reply.at - sent.sentAt >= 430, `the reply came ${Math.round(reply.at - sent.sentAt)} ms after the post; the script says 450`);
    assert.equal(reply.json!.activities[0].recipient?.id, 'live-user');

    const url = reply.json!.activities[0].attachments![0].contentUrl!;
    assert.ok(url.startsWith(replayer.url + '/attachments/'), url);
    const image = await fetch(url);
    assert.equal(image.status, 200);
    assert.equal(image.headers.get('content-type'), 'image/png');
    assert.deepEqual(Buffer.from(await image.arrayBuffer()), readFileSync(DEMO_PNG));

    const polled = await call(replayer.domain, 'GET', `/conversations/${conv.conversationId}/activities?watermark=`, {
      bearer: conv.token,
    });
    assert.deepEqual(
      polled.body.activities.map((a: any) => `${a.type}:${a.text}`),
      ['message:Welcome!', 'message:Hello', 'message:A picture'],
    );
    stream.close();
    assert.equal(replayer.summary().unmatched, 0);
  } finally {
    await replayer.close();
  }
});
