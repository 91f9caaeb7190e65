// The recorder's HTTP half: tokens and auth errors, uploads, an unreachable upstream, and what it refuses
// to forward (absolute-form targets, forged Host).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { startRecorder } from '../../src/record/recorder.js';
import { loadCassette } from '../../src/cassette/load.js';
import type { WsOpenEvent } from '../../src/cassette/schema.js';
import { parseMultipart } from '../emulator/multipart.js';
import { httpEvents, tryUpgrade, withRig } from './helpers.js';
import { tempDir } from '../support/fs.js';
import { call } from '../support/http.js';

const JSON_UTF8 = 'application/json; charset=utf-8';

test('tokens: generate and refresh through the proxy; 401/403 pass through as recorded; start with a token: 201, then 200', async () => {
  await withRig({}, async ({ emu, rec, load }) => {
    const gen = await call(rec.domain, 'POST', '/tokens/generate', { bearer: emu.secret, body: { user: { id: 'dl_ann' } } });
    assert.equal(gen.status, 200);
    assert.deepEqual(Object.keys(gen.json).sort(), ['conversationId', 'expires_in', 'token']);
    assert.equal(gen.json.token, emu.issuedTokens()[0]);
    const ref = await call(rec.domain, 'POST', '/tokens/refresh', { bearer: gen.json.token });
    assert.equal(ref.status, 200);
    assert.equal(ref.json.conversationId, gen.json.conversationId);
    assert.notEqual(ref.json.token, gen.json.token);

    const missing = await call(rec.domain, 'POST', '/tokens/generate', { bearer: null });
    assert.equal(missing.status, 401);
    assert.equal(missing.headers.get('content-type'), JSON_UTF8);
    assert.deepEqual(missing.json, { error: { code: 'BadArgument', message: 'Missing token or secret' } });
    const bad = await call(rec.domain, 'POST', '/conversations', { bearer: 'not-the-secret-at-all', body: {} });
    assert.equal(bad.status, 403);
    assert.equal(bad.json.error.code, 'BadArgument');
    assert.equal(emu.conversations().length, 1, 'the refused start created nothing');

    const first = await call(rec.domain, 'POST', '/conversations', { bearer: ref.json.token, body: {} });
    const second = await call(rec.domain, 'POST', '/conversations', { bearer: ref.json.token, body: {} });
    assert.equal(first.status, 201);
    assert.equal(second.status, 200);
    assert.equal(first.json.conversationId, gen.json.conversationId);
    assert.equal(second.json.conversationId, gen.json.conversationId);

    const c = await load();
    const ev = httpEvents(c);
    assert.deepEqual(
      ev.map((e) => [e.route, e.response?.status]),
      [
        ['tokens.generate', 200],
        ['tokens.refresh', 200],
        ['tokens.generate', 401],
        ['conversations.start', 403],
        ['conversations.start', 201],
        ['conversations.start', 200],
      ],
    );
    // Error bodies are recorded exactly as the client got them.
    assert.deepEqual((ev[2]!.response!.body as any).json, missing.json);
    assert.deepEqual((ev[3]!.response!.body as any).json, bad.json);
    assert.equal(ev[2]!.response!.headers['content-type'], JSON_UTF8);
    assert.equal(ev[2]!.request.headers.authorization, undefined);
    assert.equal(ev[0]!.request.headers.authorization, 'Bearer DLVCR_SECRET_1');
    assert.equal(ev[3]!.request.headers.authorization, 'Bearer DLVCR_SECRET_2', 'a wrong secret is a secret too');
    assert.deepEqual((ev[0]!.request.body as any).json, { user: { id: 'dl_ann' } });
    // Generate → refresh → start: each call's bearer is the placeholder of the token the previous one returned.
    const genToken = (ev[0]!.response!.body as any).json.token;
    const refToken = (ev[1]!.response!.body as any).json.token;
    assert.match(genToken, /^DLVCR_TOKEN_\d+$/);
    assert.equal(ev[1]!.request.headers.authorization, `Bearer ${genToken}`);
    assert.equal(ev[4]!.request.headers.authorization, `Bearer ${refToken}`);
    assert.equal(ev[5]!.request.headers.authorization, `Bearer ${refToken}`);
    assert.deepEqual(
      ev.map((e) => e.conversationId),
      [gen.json.conversationId, gen.json.conversationId, null, null, gen.json.conversationId, gen.json.conversationId],
    );
  });
});

test('upload: multipart and raw uploads are answered as by the emulator; the cassette keeps request bodies and responses', async () => {
  // A silent bot: no typing takes a sequence number, so activity ids are predictable.
  await withRig({ emulator: { bot: { welcome: [], reply: () => [] } } }, async ({ emu, rec, load }) => {
    const start = await call(rec.domain, 'POST', '/conversations', { bearer: emu.secret });
    const id: string = start.json.conversationId;
    const binary = Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 7) % 256)); // every byte value, not UTF-8
    const activity = { type: 'message', text: 'two files', from: { id: 'u-up' }, channelData: { clientActivityID: 'up-1' } };
    const form = new FormData();
    form.append('activity', new Blob([JSON.stringify(activity)], { type: 'application/vnd.microsoft.activity' }));
    form.append('file', new Blob([binary], { type: 'image/png' }), 'pic.png');
    form.append('file', new Blob(['hello file'], { type: 'text/plain' }), 'hello.txt');
    const up = await fetch(`${rec.domain}/conversations/${id}/upload?userId=u-up`, {
      method: 'POST',
      headers: { authorization: `Bearer ${emu.secret}` },
      body: form,
    });
    assert.equal(up.status, 200);
    assert.equal(up.headers.get('content-type'), JSON_UTF8);
    assert.deepEqual(await up.json(), { id: `${id}|0000000` });
    // The same upload straight to the emulator, on a conversation of its own, gets the same answer.
    const other = (await call(emu.domain, 'POST', '/conversations', { bearer: emu.secret })).json.conversationId;
    const direct = await fetch(`${emu.domain}/conversations/${other}/upload?userId=u-up`, {
      method: 'POST',
      headers: { authorization: `Bearer ${emu.secret}` },
      body: form,
    });
    assert.equal(direct.status, 200);
    assert.equal(direct.headers.get('content-type'), JSON_UTF8);
    assert.deepEqual(await direct.json(), { id: `${other}|0000000` });

    const raw = await call(rec.domain, 'POST', `/conversations/${id}/upload?userId=u-raw`, {
      bearer: emu.secret,
      raw: 'plain text file',
      headers: { 'content-type': 'text/plain', 'content-disposition': 'attachment; filename="note.txt"' },
    });
    assert.equal(raw.status, 200);
    assert.deepEqual(raw.json, { id: `${id}|0000001` });

    // What the emulator made of it, read through the proxy.
    const all = await call(rec.domain, 'GET', `/conversations/${id}/activities`, { bearer: emu.secret });
    const [echo, rawEcho] = all.json.activities.filter((a: any) => a.from.role === 'user');
    assert.equal(echo.text, 'two files');
    assert.deepEqual(echo.channelData, { clientActivityID: 'up-1' });
    assert.deepEqual(
      echo.attachments.map((a: any) => [a.contentType, a.name]),
      [
        ['image/png', 'pic.png'],
        ['text/plain', 'hello.txt'],
      ],
    );
    assert.deepEqual(Buffer.from(await (await fetch(echo.attachments[0].contentUrl)).arrayBuffer()), binary);
    assert.deepEqual(
      rawEcho.attachments.map((a: any) => [a.contentType, a.name]),
      [['text/plain', 'note.txt']],
    );

    const c = await load();
    const [multi, single] = httpEvents(c).filter((e) => e.route === 'upload');
    assert.ok(multi && single);
    assert.equal(multi.conversationId, id);
    assert.equal(multi.request.path, `/v3/directline/conversations/${id}/upload`);
    assert.deepEqual(multi.request.query, { userId: 'u-up' });
    const type = multi.request.headers['content-type']!;
    assert.match(type, /^multipart\/form-data; boundary=/);
    assert.ok('base64' in multi.request.body!, 'a multipart body with binary parts is kept as base64');
    const parts = parseMultipart(Buffer.from((multi.request.body as { base64: string }).base64, 'base64'), type);
    assert.deepEqual(
      parts.map((p) => [p.name, p.filename, p.contentType]),
      [
        ['activity', 'blob', 'application/vnd.microsoft.activity'],
        ['file', 'pic.png', 'image/png'],
        ['file', 'hello.txt', 'text/plain'],
      ],
    );
    assert.deepEqual(JSON.parse(parts[0]!.data.toString()), activity);
    assert.deepEqual(parts[1]!.data, binary);
    assert.equal(parts[2]!.data.toString(), 'hello file');
    assert.deepEqual(multi.response, { status: 200, headers: multi.response!.headers, body: { json: { id: `${id}|0000000` } } });
    assert.equal(multi.response!.headers['content-type'], JSON_UTF8);

    assert.deepEqual(single.request.body, { text: 'plain text file' });
    assert.equal(single.request.headers['content-disposition'], 'attachment; filename="note.txt"');
    assert.deepEqual(single.response?.body, { json: { id: `${id}|0000001` } });
  });
});

test('upstream down: 502 with a Direct Line error body saying why; the cassette records response null and the error', async () => {
  // A port that was just free: nothing listens on it.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));

  const tmp = await tempDir();
  const rec = await startRecorder({ upstream: `http://127.0.0.1:${port}/v3/directline`, cassette: tmp.file('down.json') });
  try {
    const r = await call(rec.domain, 'POST', '/conversations', { bearer: 'some-secret-value', body: {} });
    assert.equal(r.status, 502);
    assert.equal(r.headers.get('content-type'), JSON_UTF8);
    assert.deepEqual(Object.keys(r.json), ['error']);
    assert.equal(typeof r.json.error.code, 'string');
    assert.match(r.json.error.message, /ECONNREFUSED/);
    assert.ok(r.json.error.message.includes(`127.0.0.1:${port}`), 'the message names the upstream');

    const ws = await tryUpgrade(`ws://127.0.0.1:${rec.port}/v3/directline/conversations/c1/stream?t=x`);
    assert.equal(ws.status, 502);
    assert.match(JSON.parse(ws.body).error.message, /ECONNREFUSED/);

    await rec.flush();
    const c = await loadCassette(tmp.file('down.json'));
    const [ev] = httpEvents(c);
    assert.ok(ev);
    assert.equal(ev.route, 'conversations.start');
    assert.equal(ev.response, null);
    assert.equal(ev.error?.code, 'ECONNREFUSED');
    assert.match(ev.error!.message, /ECONNREFUSED/);
    assert.equal(ev.request.headers.authorization, 'Bearer DLVCR_SECRET_1');
    const open = c.events.find((e): e is WsOpenEvent => e.type === 'ws.open');
    assert.equal(open?.status, 502);
    assert.equal(open?.conversationId, 'c1');
  } finally {
    await rec.close();
    await tmp.cleanup();
  }
});

/** Writes a raw HTTP/1.1 request on a TCP socket and returns the whole answer. */
function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1', () => sock.write(text));
    let out = '';
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => (out += d));
    sock.on('end', () => resolve(out));
    sock.on('close', () => resolve(out));
    sock.on('error', reject);
    sock.setTimeout(3000, () => {
      sock.destroy();
      reject(new Error('no answer'));
    });
  });
}

test('absolute-form requests: 400, CONNECT: not served, neither reaches upstream; a forged Host goes to the set upstream', async () => {
  await withRig({}, async ({ emu, rec, load }) => {
    for (const target of [
      'http://evil.example/',
      `http://evil.example/v3/directline/conversations`,
      `http://127.0.0.1:${new URL(emu.url).port}/v3/directline/conversations`,
    ]) {
      const answer = await rawRequest(rec.port, `GET ${target} HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n`);
      assert.match(answer, /^HTTP\/1\.1 400 /, target);
      const body = answer.slice(answer.indexOf('\r\n\r\n') + 4);
      assert.equal(typeof JSON.parse(body).error.code, 'string');
    }
    const connectAnswer = await rawRequest(rec.port, 'CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n');
    assert.doesNotMatch(connectAnswer, /^HTTP\/1\.1 2\d\d/, 'CONNECT is never accepted (Node closes the socket)');
    assert.equal(emu.requests.length, 0, 'the emulator saw nothing');

    // A forged Host: the request still goes to the emulator, with the emulator's own Host (changeOrigin).
    const forged = await new Promise<{ status: number; body: any }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: rec.port,
          method: 'POST',
          path: '/v3/directline/conversations',
          headers: { host: 'evil.example', authorization: `Bearer ${emu.secret}`, 'content-type': 'application/json' },
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
        },
      );
      req.on('error', reject);
      req.end('{}');
    });
    assert.equal(forged.status, 201);
    assert.equal(emu.requests.length, 1);
    assert.equal(emu.requests[0]!.headers.host, new URL(emu.url).host);
    assert.equal(emu.conversations().length, 1);

    // A stream upgrade with a forged Host and a made-up t= goes to the emulator too (and is refused there).
    const ws = await tryUpgrade(`ws://127.0.0.1:${rec.port}/v3/directline/conversations/${forged.body.conversationId}/stream?t=bogus`, {
      headers: { host: 'evil.example' },
    });
    assert.equal(ws.status, 403);
    assert.equal(emu.requests.length, 2);
    assert.equal(emu.requests[1]!.headers.host, new URL(emu.url).host);

    const c = await load();
    assert.deepEqual(
      httpEvents(c).map((e) => e.route),
      ['conversations.start'],
    );
  });
});
