// Attachments on replay (trap 15): contentUrl/thumbnailUrl values on the recorded upstream point at the
// replayer in everything served (frames, polls), with the session's conversation id in them, and the replayer
// answers their GETs with the recorded bytes — for any session, with the upstream gone. An attachment nobody
// fetched while recording is a 404 that says so.
import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startReplayer, type Replayer } from '../../src/replay/index.js';
import { startRecorder } from '../../src/record/recorder.js';
import type { Cassette } from '../../src/cassette/schema.js';
import { startEmulator } from '../emulator/index.js';
import { CassetteBuilder, ConversationScript, UPSTREAM_ORIGIN, multipartBody, uploadCassette } from './fixtures.js';
import { StreamClient, startConversation } from './helpers.js';
import { call } from '../support/http.js';
import { tempDir, type TempDir } from '../support/fs.js';

const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d' +
    '4944415478da63f8cfc0f01f0005000201ff0c6c2d2a0000000049454e44ae426082',
  'hex',
);
const USER = 'dl_att-user';

let tmp: TempDir;
const open: Replayer[] = [];
before(async () => {
  tmp = await tempDir('dlvcr-attachments-');
});
after(async () => {
  await Promise.all(open.map((r) => r.close()));
  await tmp.cleanup();
});

async function replayer(...args: Parameters<typeof startReplayer>): Promise<Replayer> {
  const r = await startReplayer(...args);
  open.push(r);
  return r;
}

/** What Web Chat sends for a message with two files: an activity part and the files (fetch + FormData). */
function uploadTwoFiles(domain: string, conversationId: string, token: string): Promise<Response> {
  const form = new FormData();
  form.append(
    'activity',
    new Blob([JSON.stringify({ type: 'message', text: 'two files', from: { id: USER } })], { type: 'application/vnd.microsoft.activity' }),
  );
  form.append('file', new Blob([PNG], { type: 'image/png' }), 'pic.png');
  form.append('file', new Blob(['never fetched'], { type: 'text/plain' }), 'notes.txt');
  return fetch(`${domain}/conversations/${conversationId}/upload?userId=${USER}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
}

async function assertNotRecorded(url: string): Promise<void> {
  const res = await fetch(url);
  assert.equal(res.status, 404, url);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const body = await res.json();
  assert.equal(body.error.code, 'ReplayMismatch');
  assert.match(body.error.message, /was not recorded/);
  assert.match(body.error.message, /never fetched while recording/);
  assert.match(body.replay.hint, /fetch its contentUrl through the recorder while recording/);
  assert.equal(body.replay.received.route, 'attachment');
}

describe('record an upload against the emulator, replay it without the emulator', () => {
  it('echo contentUrls point at the replayer (stream, poll), serve recorded bytes per session; unfetched file: 404 saying so', async () => {
    const cassette = tmp.file('upload.json');
    const emu = await startEmulator();
    const rec = await startRecorder({ upstream: emu.domain, cassette });
    let paths: string[];
    try {
      const start = await call(rec.domain, 'POST', '/conversations', { bearer: emu.secret, body: { user: { id: USER } } });
      const stream = new StreamClient(start.body.streamUrl);
      await stream.opened;
      assert.equal((await uploadTwoFiles(rec.domain, start.body.conversationId, start.body.token)).status, 200);
      await stream.arrivalOf('Received 2 attachment(s)');
      const echo = stream.activities().find((a) => a.text === 'two files')!;
      const urls: string[] = echo.attachments!.map((a) => a.contentUrl as string);
      for (const u of urls) assert.equal(new URL(u).origin, rec.url, 'recording: the contentUrl is on the recorder');
      paths = urls.map((u) => new URL(u).pathname);
      // Only the picture is looked at while recording.
      assert.deepEqual(Buffer.from(await (await fetch(urls[0]!)).arrayBuffer()), PNG);
      stream.close();
    } finally {
      await rec.close();
      await emu.close();
    }

    const r = await replayer({ cassette, speed: 0 });
    for (const n of [1, 2]) {
      const conv = await startConversation(r.domain, { generate: false, userId: USER, bearer: 'any-secret' });
      const stream = new StreamClient(conv.streamUrl);
      await stream.opened;
      assert.equal((await uploadTwoFiles(r.domain, conv.conversationId, conv.token)).status, 200);
      await stream.arrivalOf('Received 2 attachment(s)');
      const echo = stream.activities().find((a) => a.text === 'two files')!;
      const urls = echo.attachments!.map((a) => a.contentUrl as string);
      assert.deepEqual(
        urls,
        paths.map((p) => r.url + p),
        `session ${n}: same paths, on the replayer`,
      );
      const polled = (
        await call(r.domain, 'GET', `/conversations/${conv.conversationId}/activities`, { bearer: conv.token })
      ).body.activities.find((a: any) => a.text === 'two files');
      assert.deepEqual(
        polled.attachments.map((a: any) => a.contentUrl),
        urls,
        `session ${n}: the poll serves the same URLs`,
      );

      const file = await fetch(urls[0]!);
      assert.equal(file.status, 200);
      assert.equal(file.headers.get('content-type'), 'image/png');
      assert.deepEqual(Buffer.from(await file.arrayBuffer()), PNG, `session ${n}: the recorded bytes`);
      await assertNotRecorded(urls[1]!);
      stream.close();
    }
    const summary = r.summary();
    assert.equal(summary.conversations, 2);
    assert.deepEqual(
      summary.unmatchedRequests.map((u) => [u.method, u.route, u.path]),
      [
        ['GET', 'attachment', paths[1]],
        ['GET', 'attachment', paths[1]],
      ],
    );
  });
});

const CONV = 'AtTaChAAAAAAAAAAAAAAAA-us';

/**
 * A bot message with a picture whose URLs sit outside the base path with the conversation id and a t= token
 * in them (redacted as the recorder writes them), plus a picture on a CDN; the picture was fetched while
 * recording, its thumbnail was not.
 */
function pictureCassette(): Cassette {
  const b = new CassetteBuilder();
  const c = new ConversationScript(b, CONV);
  c.start(0, { bearer: 'DLVCR_SECRET_1' });
  c.open(100);
  const t = b.placeholder('DLVCR_STREAMTOKEN_7');
  c.frame(
    150,
    [
      c.bot('a picture', {
        attachments: [
          {
            contentType: 'image/png',
            name: 'pic.png',
            contentUrl: `${UPSTREAM_ORIGIN}/attachments/${CONV}/f1/0?t=${t}`,
            thumbnailUrl: `${UPSTREAM_ORIGIN}/attachments/${CONV}/f1/thumb`,
          },
          { contentType: 'image/png', contentUrl: 'https://cdn.example.test/pic.png' },
        ],
      }),
    ],
    '0',
  );
  b.events.push({
    type: 'http',
    t: 300,
    conversationId: CONV,
    route: 'attachment',
    request: { method: 'GET', path: `/attachments/${CONV}/f1/0`, query: { t }, headers: {}, body: null },
    response: {
      status: 200,
      headers: { 'content-type': 'image/png', 'cache-control': 'private' },
      body: { base64: PNG.toString('base64') },
    },
    duration: 20,
  });
  c.close(500, 'client', 1005);
  return b.build();
}

describe('attachment URLs with the conversation id in them', () => {
  it('each session gets its own conversation id and token in the URL, and every session is served', async () => {
    const r = await replayer({ cassette: pictureCassette(), speed: 0 });
    for (const n of [1, 2]) {
      const conv = await startConversation(r.domain, { generate: false, bearer: 'any-secret' });
      assert.equal(conv.conversationId, `${CONV}_${n}`);
      const stream = new StreamClient(conv.streamUrl);
      await stream.opened;
      await stream.arrivalOf('a picture');
      const [pic, cdn] = stream.activities()[0]!.attachments!;
      const m = new RegExp(`^${r.url}/attachments/${conv.conversationId}/f1/0\\?t=(.+)$`).exec(pic!.contentUrl as string);
      assert.ok(m, `session ${n}: ${pic!.contentUrl}`);
      assert.ok(!m[1]!.startsWith('DLVCR_'), 'the placeholder became a synthetic token');
      assert.equal(pic!.thumbnailUrl, `${r.url}/attachments/${conv.conversationId}/f1/thumb`);
      assert.equal(cdn!.contentUrl, 'https://cdn.example.test/pic.png', 'another origin: untouched');
      const polled = (await call(r.domain, 'GET', `/conversations/${conv.conversationId}/activities`, { bearer: conv.token })).body
        .activities[0];
      assert.equal(polled.attachments[0].thumbnailUrl, pic!.thumbnailUrl);

      const file = await fetch(pic!.contentUrl as string);
      assert.equal(file.status, 200);
      assert.equal(file.headers.get('content-type'), 'image/png');
      assert.equal(file.headers.get('cache-control'), 'private');
      assert.equal(file.headers.get('access-control-allow-origin'), '*');
      assert.deepEqual(Buffer.from(await file.arrayBuffer()), PNG);
      await assertNotRecorded(pic!.thumbnailUrl as string);
      stream.close();
    }
    // A path no activity carried is no attachment: the usual 404 outside the base path.
    const made = await fetch(`${r.url}/attachments/${CONV}_1/f9/0`);
    assert.equal(made.status, 404);
    assert.equal((await made.json()).error.code, 'NotFound');
    assert.equal(r.summary().unmatched, 2, 'the two thumbnails');
  });

  it('a cassette recorded before attachments were recorded: the URL points at the replayer, which says it was not recorded', async () => {
    const r = await replayer({ cassette: uploadCassette(), speed: 0 });
    const conv = await startConversation(r.domain, { generate: false });
    const stream = new StreamClient(conv.streamUrl);
    await stream.opened;
    const boundary = '----liveBoundary';
    const body = multipartBody(boundary, [
      {
        name: 'activity',
        contentType: 'application/vnd.microsoft.activity',
        body: JSON.stringify({ type: 'message', text: 'see file', from: { id: conv.userId } }),
      },
      { name: 'file', filename: 'hello.txt', contentType: 'text/plain', body: 'hello file' },
    ]);
    const up = await call(r.domain, 'POST', `/conversations/${conv.conversationId}/upload?userId=${conv.userId}`, {
      bearer: conv.token,
      raw: body,
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    });
    assert.equal(up.status, 200);
    await stream.arrivalOf('Received 1 attachment(s)');
    const echo = stream.activities().find((a) => a.text === 'see file')!;
    assert.equal(echo.attachments![0]!.contentUrl, `${r.url}/attachments/x/0`);
    await assertNotRecorded(echo.attachments![0]!.contentUrl as string);
    stream.close();
  });
});
