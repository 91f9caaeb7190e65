// Attachment URLs through the recorder (reference §1.3 (7), trap 15): contentUrl/thumbnailUrl values on the
// upstream's origin reach the client on the recorder, in polls and stream frames; the recorder forwards GETs
// of exactly those paths (even outside the base path) and records them; everything else is left alone.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { WebSocketServer } from 'ws';
import { startRecorder } from '../../src/record/recorder.js';
import { AttachmentUrls } from '../../src/record/attachment-urls.js';
import { loadCassette } from '../../src/cassette/load.js';
import type { HttpEvent } from '../../src/cassette/schema.js';
import { StreamClient, httpEvents, recordedActivities, withRig, wsMessages } from './helpers.js';
import { tempDir } from '../support/fs.js';
import { call } from '../support/http.js';

const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d' +
    '4944415478da63f8cfc0f01f0005000201ff0c6c2d2a0000000049454e44ae426082',
  'hex',
);
const attachmentEvents = (events: HttpEvent[]) => events.filter((e) => e.route === 'attachment');

describe('attachment URLs from the emulator', () => {
  it('upload echoes carry recorder contentUrls (stream, poll); GETs forwarded, recorded; the cassette keeps upstream URLs', async () => {
    await withRig({}, async ({ emu, rec, load }) => {
      const start = await call(rec.domain, 'POST', '/conversations', { bearer: emu.secret, body: { user: { id: 'u-up' } } });
      assert.equal(start.status, 201);
      const id: string = start.json.conversationId;
      const stream = await StreamClient.open(start.json.streamUrl);
      try {
        const form = new FormData();
        form.append(
          'activity',
          new Blob([JSON.stringify({ type: 'message', text: 'two files', from: { id: 'u-up' } })], {
            type: 'application/vnd.microsoft.activity',
          }),
        );
        form.append('file', new Blob([PNG], { type: 'image/png' }), 'pic.png');
        form.append(
          'file',
          new Blob(['{"streamUrl": "not rewritten",\r\n "contentUrl": "' + emu.url + '/x"}'], { type: 'application/json' }),
          'data.json',
        );
        const up = await fetch(`${rec.domain}/conversations/${id}/upload?userId=u-up`, {
          method: 'POST',
          headers: { authorization: `Bearer ${emu.secret}` },
          body: form,
        });
        assert.equal(up.status, 200);
        await stream.waitForText('Received 2 attachment(s)');

        // What the emulator handed out (read from it directly), and what the client got through the recorder.
        const stored = (await call(emu.domain, 'GET', `/conversations/${id}/activities`, { bearer: emu.secret })).json.activities.find(
          (a: any) => a.text === 'two files',
        );
        const upstreamUrls: string[] = stored.attachments.map((a: any) => a.contentUrl);
        for (const u of upstreamUrls) assert.ok(u.startsWith(`${emu.url}/v3/directline/attachments/`), u);
        const proxied = upstreamUrls.map((u) => rec.url + u.slice(emu.url.length));
        const streamed = stream.activities.find((a) => a.text === 'two files');
        assert.deepEqual(
          streamed.attachments.map((a: any) => a.contentUrl),
          proxied,
          'stream frame: same path on the recorder',
        );
        const polled = (await call(rec.domain, 'GET', `/conversations/${id}/activities`, { bearer: emu.secret })).json.activities.find(
          (a: any) => a.text === 'two files',
        );
        assert.deepEqual(
          polled.attachments.map((a: any) => a.contentUrl),
          proxied,
          'poll: same path on the recorder',
        );
        assert.deepEqual(
          polled.attachments.map((a: any) => [a.name, a.contentType]),
          [
            ['pic.png', 'image/png'],
            ['data.json', 'application/json'],
          ],
        );

        // Fetching through the recorder reaches the emulator and gives the bytes, a JSON file byte for byte.
        const before = emu.requests.length;
        const png = await fetch(proxied[0]!);
        assert.equal(png.status, 200);
        assert.equal(png.headers.get('content-type'), 'image/png');
        assert.deepEqual(Buffer.from(await png.arrayBuffer()), PNG);
        const json = await fetch(proxied[1]!);
        assert.equal(await json.text(), '{"streamUrl": "not rewritten",\r\n "contentUrl": "' + emu.url + '/x"}');
        assert.deepEqual(
          emu.requests.slice(before).map((r) => `${r.method} ${r.path}`),
          upstreamUrls.map((u) => `GET ${new URL(u).pathname}`),
        );

        const c = await load();
        const gets = attachmentEvents(httpEvents(c));
        assert.equal(gets.length, 2);
        assert.deepEqual(
          gets.map((e) => [e.conversationId, e.request.method, e.request.path, e.response?.status]),
          upstreamUrls.map((u) => [id, 'GET', new URL(u).pathname, 200]),
        );
        assert.deepEqual(gets[0]!.response!.body, { base64: PNG.toString('base64') });
        assert.equal(gets[0]!.response!.headers['content-type'], 'image/png');
        assert.equal(
          Buffer.from((gets[1]!.response!.body as { base64: string }).base64, 'base64').toString(),
          await (await fetch(upstreamUrls[1]!)).text(),
          'a JSON file is stored as base64, exactly',
        );
        assert.equal(gets[1]!.response!.headers['content-type'], 'application/json');
        // The frames and the poll in the cassette carry the emulator's URLs, as the upstream sent them.
        const echoInFrame = recordedActivities(c).find((a) => a.text === 'two files');
        assert.deepEqual(
          echoInFrame.attachments.map((a: any) => a.contentUrl),
          upstreamUrls,
        );
        const poll = httpEvents(c).find((e) => e.route === 'activities.get')!;
        assert.deepEqual(
          (poll.response!.body as any).json.activities.find((a: any) => a.text === 'two files').attachments.map((a: any) => a.contentUrl),
          upstreamUrls,
        );
      } finally {
        await stream.close();
      }
    });
  });
});

/**
 * An upstream that hands out attachment URLs outside its base path (as a real deployment may), with a
 * token-like t= query, next to URLs on other origins; it serves the files and logs every request.
 */
async function startFileUpstream() {
  const seen: string[] = [];
  const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJmaWxlIn0.c2lnbmF0dXJlLWZpbGU';
  let origin = '';
  const files: Record<string, { type: string; body: Buffer }> = {
    '/files/conv-1/a.png': { type: 'image/png', body: PNG },
    '/thumbs/a.png': { type: 'image/png', body: PNG.subarray(0, 16) },
    '/files/conv-1/c.txt': { type: 'text/plain', body: Buffer.from('from the stream') },
    '/files/conv-1/d.txt': { type: 'text/plain', body: Buffer.from('escaped slashes') },
  };
  const activitySet = () => ({
    activities: [
      {
        type: 'message',
        id: 'conv-1|0000001',
        from: { id: 'bot', role: 'bot' },
        text: 'files',
        attachments: [
          { contentType: 'image/png', contentUrl: `${origin}/files/conv-1/a.png?t=${JWT}`, thumbnailUrl: `${origin}/thumbs/a.png` },
          { contentType: 'image/png', contentUrl: 'http://files.example.test/files/conv-1/x.png' },
          { contentType: 'image/png', contentUrl: `${origin.replace('127.0.0.1', 'localhost')}/files/conv-1/b.png` },
          { contentType: 'image/png', contentUrl: `${origin.replace('http:', 'https:')}/files/conv-1/b.png` },
        ],
      },
    ],
    watermark: '1',
  });
  const server = createServer((req: IncomingMessage, res) => {
    seen.push(`${req.method} ${req.url}`);
    req.resume();
    const path = (req.url ?? '').split('?')[0]!;
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'POST' && path === '/v3/directline/conversations') {
      return json(201, {
        conversationId: 'conv-1',
        token: 'tok',
        streamUrl: `${origin.replace('http', 'ws')}/v3/directline/conversations/conv-1/stream?t=st`,
      });
    }
    if (req.method === 'GET' && path === '/v3/directline/conversations/conv-1/activities') return json(200, activitySet());
    const file = files[path];
    if (req.method === 'GET' && file) {
      res.writeHead(200, { 'content-type': file.type, 'cache-control': 'private' });
      return res.end(file.body);
    }
    json(404, { error: { code: 'NotFound', message: 'no such thing' } });
  });
  const wss = new WebSocketServer({ server });
  const plainFrame = '{ "activities": [ { "type": "message", "text": "no url here" } ],  "watermark": "2" }';
  wss.on('connection', (ws) => {
    ws.send(
      JSON.stringify({
        activities: [
          {
            type: 'message',
            id: 'conv-1|0000003',
            text: 'streamed',
            attachments: [{ contentType: 'text/plain', contentUrl: `${origin}/files/conv-1/c.txt` }],
          },
        ],
        watermark: '3',
      }),
    );
    // A writer that escapes slashes: the host is still found, the JSON still parsed.
    ws.send(
      '{"activities":[{"type":"message","text":"escaped","attachments":[{"contentUrl":"' +
        `${origin.replace(/\//g, '\\/')}\\/files\\/conv-1\\/d.txt"}]}],"watermark":"4"}`,
    );
    ws.send(plainFrame);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    domain: `${origin}/v3/directline`,
    seen,
    JWT,
    plainFrame,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe('attachment URLs outside the base path, on other hosts, in frames', () => {
  it('rewrites only upstream-origin URLs, forwards GETs only for the paths it handed out, keeps tokens out of the cassette', async () => {
    const up = await startFileUpstream();
    const tmp = await tempDir();
    const rec = await startRecorder({ upstream: up.domain, cassette: tmp.file('c.json') });
    try {
      const start = await call(rec.domain, 'POST', '/conversations', { bearer: 'the-secret-0123456789' });
      const poll = await call(rec.domain, 'GET', '/conversations/conv-1/activities', { bearer: 'the-secret-0123456789' });
      const [a, other, localhost, https] = poll.json.activities[0].attachments;
      assert.equal(a.contentUrl, `${rec.url}/files/conv-1/a.png?t=${up.JWT}`, 'same path and query, on the recorder');
      assert.equal(a.thumbnailUrl, `${rec.url}/thumbs/a.png`);
      assert.equal(other.contentUrl, 'http://files.example.test/files/conv-1/x.png', 'another host: untouched');
      assert.equal(
        localhost.contentUrl,
        `${up.origin.replace('127.0.0.1', 'localhost')}/files/conv-1/b.png`,
        'another host name: untouched',
      );
      assert.equal(https.contentUrl, `${up.origin.replace('http:', 'https:')}/files/conv-1/b.png`, 'another scheme: untouched');

      const got = await fetch(a.contentUrl);
      assert.equal(got.status, 200);
      assert.deepEqual(Buffer.from(await got.arrayBuffer()), PNG);
      assert.equal((await fetch(a.thumbnailUrl)).status, 200);
      assert.ok(up.seen.includes(`GET /files/conv-1/a.png?t=${up.JWT}`), 'forwarded with its query');

      // Never forwarded: the other host's path, a path the upstream did not hand out, another method.
      const before = up.seen.length;
      for (const [method, path] of [
        ['GET', '/files/conv-1/x.png'],
        ['GET', '/files/conv-1/b.png'],
        ['GET', '/files/conv-1/never.png'],
        ['POST', '/files/conv-1/a.png'],
      ] as const) {
        const res = await fetch(rec.url + path, { method, body: method === 'POST' ? 'x' : undefined });
        assert.equal(res.status, 404, `${method} ${path}`);
        assert.equal((await res.json()).error.code, 'NotFound');
      }
      assert.deepEqual(up.seen.slice(before), [], 'nothing else reached the upstream');

      // Stream frames: URLs rewritten (escaped slashes too); a frame without the upstream's host byte for byte.
      const stream = await StreamClient.open(start.json.streamUrl);
      try {
        await stream.waitFor((s) => s.frames.length >= 3, 'three frames');
        const [streamed, escaped] = stream.activities;
        assert.equal(streamed.attachments[0].contentUrl, `${rec.url}/files/conv-1/c.txt`);
        assert.equal(escaped.attachments[0].contentUrl, `${rec.url}/files/conv-1/d.txt`);
        assert.equal(stream.frames[2], up.plainFrame, 'relayed untouched');
        assert.equal(await (await fetch(streamed.attachments[0].contentUrl)).text(), 'from the stream');
        assert.equal(await (await fetch(escaped.attachments[0].contentUrl)).text(), 'escaped slashes');
      } finally {
        await stream.close();
      }

      await rec.flush();
      const text = await readFile(tmp.file('c.json'), 'utf8');
      assert.ok(!text.includes(up.JWT), 'the t= token is redacted everywhere');
      assert.ok(!text.includes(rec.url), "the cassette never holds the recorder's URLs");
      const c = await loadCassette(tmp.file('c.json'));
      const gets = attachmentEvents(httpEvents(c));
      assert.deepEqual(
        gets.map((e) => [e.conversationId, e.request.path, e.response?.status, e.response?.headers['content-type']]),
        [
          ['conv-1', '/files/conv-1/a.png', 200, 'image/png'],
          ['conv-1', '/thumbs/a.png', 200, 'image/png'],
          ['conv-1', '/files/conv-1/c.txt', 200, 'text/plain'],
          ['conv-1', '/files/conv-1/d.txt', 200, 'text/plain'],
        ],
      );
      assert.match(gets[0]!.request.query.t!, /^DLVCR_STREAMTOKEN_\d+$/);
      assert.deepEqual(gets[2]!.response!.body, { base64: Buffer.from('from the stream').toString('base64') });
      const recordedPoll = httpEvents(c).find((e) => e.route === 'activities.get')!;
      const recordedUrl: string = (recordedPoll.response!.body as any).json.activities[0].attachments[0].contentUrl;
      assert.equal(
        recordedUrl,
        `${up.origin}/files/conv-1/a.png?t=${gets[0]!.request.query.t}`,
        'the upstream URL, its t= as the same placeholder',
      );
      const frames = wsMessages(c).filter((m) => m.from === 'server');
      assert.equal((frames[0]!.data as any).json.activities[0].attachments[0].contentUrl, `${up.origin}/files/conv-1/c.txt`);
    } finally {
      await rec.close();
      await up.close();
      await tmp.cleanup();
    }
  });
});

describe('AttachmentUrls', () => {
  it('matches the upstream origin exactly, keeps path, query and fragment, refuses credentials', () => {
    const urls = new AttachmentUrls('https://directline.botframework.com');
    const rw = (u: string) => urls.rewrite(u, 'http://127.0.0.1:4978', 'c1');
    assert.equal(rw('https://directline.botframework.com/attachments/c1/0?t=x#f'), 'http://127.0.0.1:4978/attachments/c1/0?t=x#f');
    assert.equal(rw('https://DirectLine.BotFramework.com:443/a'), 'http://127.0.0.1:4978/a', 'URL normalisation: case, default port');
    assert.equal(rw('https://europe.directline.botframework.com/a'), 'https://europe.directline.botframework.com/a');
    assert.equal(rw('http://directline.botframework.com/a'), 'http://directline.botframework.com/a');
    assert.equal(rw('https://directline.botframework.com:8443/a'), 'https://directline.botframework.com:8443/a');
    assert.equal(rw('https://user:pw@directline.botframework.com/b'), 'https://user:pw@directline.botframework.com/b');
    assert.equal(rw('not a url'), 'not a url');
    assert.equal(urls.lookup('/attachments/c1/0')?.conversationId, 'c1', 'remembered with the conversation that carried it');
    assert.equal(urls.lookup('/b'), undefined);
    assert.ok(urls.mayContain(Buffer.from('{"u":"https:\\/\\/directline.botframework.com\\/x"}')));
    assert.ok(!urls.mayContain(Buffer.from('{"activities":[]}')));
  });

  it('forgets a path after 24 h', () => {
    let now = 1_000_000;
    const urls = new AttachmentUrls('http://127.0.0.1:5555', () => now);
    urls.rewrite('http://127.0.0.1:5555/files/a', 'http://proxy', null);
    now += 24 * 60 * 60_000;
    assert.ok(urls.lookup('/files/a'), 'still within 24 h');
    now += 1;
    assert.equal(urls.lookup('/files/a'), undefined);
  });
});
