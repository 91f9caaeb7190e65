// REST replay: recorded status codes, bodies and headers; matching and the ReplayMismatch error; tokens
// and sessions; CORS; the base path; logs.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { writeFile } from 'node:fs/promises';
import { createLogger } from '../../src/log.js';
import { startReplayer, type Replayer } from '../../src/replay/index.js';
import { ERR_CONV_A, ERR_CONV_B, WS_CONV, errorsCassette, multipartBody, uploadCassette, wsCassette } from './fixtures.js';
import { StreamClient, startConversation, userMessage } from './helpers.js';
import { call } from '../support/http.js';
import { tempDir } from '../support/fs.js';
import { sleep } from '../support/async.js';

const open: Replayer[] = [];
after(async () => {
  await Promise.all(open.map((r) => r.close()));
});

async function replayer(...args: Parameters<typeof startReplayer>): Promise<Replayer> {
  const r = await startReplayer(...args);
  open.push(r);
  return r;
}

function captureLogs() {
  const lines: any[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { lines, logger: createLogger({ destination, level: 'debug' }) };
}

describe('recorded status codes, bodies and headers', () => {
  it('replays 201 and 200 starts, 429 with Retry-After, 502 with its body, an unreachable upstream, a 403 generate', async () => {
    const r = await replayer({ cassette: errorsCassette(), speed: 0 });
    // session 1: conversation A (the first recorded conversation starting with conversations.start)
    const a = await call(r.domain, 'POST', '/conversations', { bearer: 'some-secret', body: { user: { id: 'u1' } } });
    assert.equal(a.status, 201);
    assert.equal(a.body.conversationId, `${ERR_CONV_A}_1`);
    const path = `/conversations/${a.body.conversationId}/activities`;
    const tooFast = await call(r.domain, 'POST', path, { bearer: a.body.token, body: userMessage('too fast', 'u1', 'x') });
    assert.equal(tooFast.status, 429);
    assert.equal(tooFast.headers.get('retry-after'), '5');
    assert.equal(tooFast.headers.get('x-ms-request-id'), 'abc');
    assert.equal(tooFast.headers.get('cache-control'), 'no-cache');
    assert.equal(tooFast.headers.get('content-encoding'), null);
    assert.deepEqual(tooFast.body, { error: { code: 'TooManyRequests', message: 'Too many requests' } });
    const botError = await call(r.domain, 'POST', path, { bearer: a.body.token, body: userMessage('hello', 'u1', 'y') });
    assert.equal(botError.status, 502);
    assert.deepEqual(botError.body, {
      error: { code: 'BotError', message: 'Failed to send activity: bot returned an error' },
      httpStatusCode: 500,
    });
    assert.match(botError.headers.get('content-type')!, /application\/json/);
    const unreachable = await call(r.domain, 'POST', path, { bearer: a.body.token, body: userMessage('unreachable', 'u1', 'z') });
    assert.equal(unreachable.status, 502);
    assert.equal(unreachable.body.error.code, 'ECONNREFUSED');
    // session 2: conversation B, recorded with 200
    const b = await call(r.domain, 'POST', '/conversations', { bearer: 'some-secret', body: {} });
    assert.equal(b.status, 200);
    assert.equal(b.body.conversationId, `${ERR_CONV_B}_2`);
    // getsessionid: the recorded answer, then a synthesized one
    const sid = await call(r.domain, 'GET', '/session/getsessionid', { bearer: b.body.token });
    assert.deepEqual([sid.status, sid.body], [200, { sessionId: 'recorded-session-id' }]);
    const sid2 = await call(r.domain, 'GET', '/session/getsessionid', { bearer: b.body.token });
    assert.equal(sid2.status, 200);
    assert.equal(typeof sid2.body.sessionId, 'string');
    // a new session via tokens/generate: the recorded 403
    const gen = await call(r.domain, 'POST', '/tokens/generate', { bearer: 'bad-secret' });
    assert.equal(gen.status, 403);
    assert.deepEqual(gen.body, { error: { code: 'BadArgument', message: 'Site missing or invalid' } });
    const s = r.summary();
    assert.equal(s.conversations, 3);
    assert.equal(s.unmatched, 0);
    assert.equal(s.matched, 8);
  });

  it('answers refresh and reconnect beyond the recording with fresh synthetic credentials', async () => {
    const r = await replayer({ cassette: wsCassette(), speed: 0 });
    const conv = await startConversation(r.domain);
    const refreshed = await call(r.domain, 'POST', '/tokens/refresh', { bearer: conv.token });
    assert.equal(refreshed.status, 200);
    assert.equal(refreshed.body.conversationId, conv.conversationId);
    assert.notEqual(refreshed.body.token, conv.token);
    const again = await call(r.domain, 'POST', '/tokens/refresh', { bearer: refreshed.body.token });
    assert.equal(again.status, 200, 'the refreshed token is known to the replay');
    const re = await call(r.domain, 'GET', `/conversations/${conv.conversationId}?watermark=0`, { bearer: again.body.token });
    assert.equal(re.status, 200);
    assert.match(re.body.streamUrl, new RegExp(`/conversations/${conv.conversationId}/stream\\?watermark=0&t=eyJ`));
    const unknown = await call(r.domain, 'POST', '/tokens/refresh', { bearer: 'not-ours' });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'ReplayMismatch');
  });
});

describe('matching', () => {
  it('answers a mismatched post with 400 ReplayMismatch (what came, what was expected, how to re-record), then still matches', async () => {
    const { lines, logger } = captureLogs();
    const tmp = await tempDir('dlvcr-replay-');
    const file = tmp.file('ws.json');
    await writeFile(file, JSON.stringify(wsCassette()));
    try {
      const r = await replayer({ cassette: file, speed: 0, logger });
      const conv = await startConversation(r.domain);
      const path = `/conversations/${conv.conversationId}/activities`;
      const wrong = await call(r.domain, 'POST', path, { bearer: conv.token, body: userMessage('goodbye', conv.userId, 'w') });
      assert.equal(wrong.status, 400);
      assert.equal(wrong.body.error.code, 'ReplayMismatch');
      assert.match(wrong.body.error.message, /goodbye/);
      assert.deepEqual(wrong.body.replay.received, {
        method: 'POST',
        path: `/v3/directline${path}`,
        route: 'activities.post',
        activity: { type: 'message', text: 'goodbye' },
      });
      assert.equal(wrong.body.replay.expected.route, 'activities.post');
      assert.deepEqual(wrong.body.replay.expected.activity, { type: 'message', text: 'hello' });
      assert.equal(wrong.body.replay.expected.path, `/v3/directline/conversations/${WS_CONV}/activities`);
      assert.equal(
        wrong.body.replay.hint,
        `re-record with: directline-vcr record --upstream http://127.0.0.1:5555/v3/directline --cassette ${file}`,
      );
      const wrongType = await call(r.domain, 'POST', path, {
        bearer: conv.token,
        body: { ...userMessage('hello', conv.userId, 'w'), type: 'event', name: 'x' },
      });
      assert.equal(wrongType.status, 400);
      // ids, timestamps, channelData, tokens are ignored: this one matches
      const ok = await call(r.domain, 'POST', path, {
        bearer: 'whatever',
        body: { ...userMessage('hello', 'other-user', 'zzz'), timestamp: 'now', id: 'client-id' },
      });
      assert.equal(ok.status, 200);
      assert.equal(ok.body.id, `${conv.conversationId}|0000001`);
      await call(r.domain, 'POST', path, { bearer: conv.token, body: userMessage('burst 3', conv.userId, 'w') });
      await call(r.domain, 'POST', path, { bearer: conv.token, body: userMessage('slow', conv.userId, 'w') });
      const extra = await call(r.domain, 'POST', path, { bearer: conv.token, body: userMessage('one more', conv.userId, 'w') });
      assert.equal(extra.status, 404, 'no recorded post left');
      assert.equal(extra.body.replay.expected, null);
      // An id this server never handed out, from a client with credentials, resumes the cassette's only conversation.
      const resumed = await call(r.domain, 'GET', '/conversations/kept-by-the-page/activities', { bearer: conv.token });
      assert.equal(resumed.status, 200);
      const noCredentials = await call(r.domain, 'GET', '/conversations/nope/activities');
      assert.equal(noCredentials.status, 404);
      assert.equal(noCredentials.body.error.code, 'ReplayMismatch');
      const unknownRoute = await call(r.domain, 'DELETE', `/conversations/${conv.conversationId}`, { bearer: conv.token });
      assert.equal(unknownRoute.status, 404);

      const s = r.summary();
      assert.equal(s.unmatched, 5);
      assert.deepEqual(
        s.unmatchedRequests.map((u) => u.route),
        ['activities.post', 'activities.post', 'activities.post', 'activities.get', 'unknown'],
      );
      assert.match(s.unmatchedRequests[0].expected!, /POST \/v3\/directline\/conversations\/.+\/activities message "hello"/);
      assert.match(s.unmatchedRequests[0].reason, /goodbye/);
      const warns = lines.filter((l) => l.level === 40);
      assert.equal(warns.length, 5);
      assert.match(warns[0].reason, /goodbye/);
      const infos = lines.filter((l) => l.level === 30 && l.msg === 'replayed');
      assert.ok(infos.some((l) => l.route === 'activities.post' && l.status === 200 && l.session === 1));
      // no token ever reaches the log
      const all = JSON.stringify(lines);
      assert.ok(
        !all.includes(conv.token) &&
          !all.includes(conv.generated!.body.token) &&
          !all.includes(new URL(conv.streamUrl).searchParams.get('t')!),
      );
    } finally {
      await tmp.cleanup();
    }
  });

  it('matches uploads structurally (boundaries differ) and echoes the live channelData', async () => {
    const r = await replayer({ cassette: uploadCassette(), speed: 0 });
    const conv = await startConversation(r.domain, { generate: false });
    const stream = new StreamClient(conv.streamUrl);
    await stream.opened;
    const upload = (name: string) => {
      const boundary = `----live${Math.random().toString(16).slice(2)}`;
      const body = multipartBody(boundary, [
        {
          name: 'activity',
          contentType: 'application/vnd.microsoft.activity',
          body: JSON.stringify({
            type: 'message',
            text: 'see file',
            from: { id: conv.userId },
            channelData: { clientActivityID: 'live-up' },
          }),
        },
        { name: 'file', filename: name, contentType: 'text/plain', body: 'other bytes' },
      ]);
      return call(r.domain, 'POST', `/conversations/${conv.conversationId}/upload?userId=${conv.userId}`, {
        bearer: conv.token,
        raw: body,
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      });
    };
    const wrong = await upload('other.txt');
    assert.equal(wrong.status, 400);
    assert.match(wrong.body.error.message, /other\.txt/);
    const ok = await upload('hello.txt');
    assert.equal(ok.status, 200);
    await stream.arrivalOf('Received 1 attachment(s)');
    const echo = stream.activities().find((a) => a.text === 'see file')!;
    assert.equal(echo.channelData?.clientActivityID, 'live-up');
    assert.equal(echo.from?.id, conv.userId);
    stream.close();
  });
});

describe('CORS and the base path', () => {
  it('answers preflights locally and adds Access-Control-Allow-Origin everywhere', async () => {
    const r = await replayer({ cassette: wsCassette(), speed: 0 });
    const pre = await fetch(r.domain + '/conversations', {
      method: 'OPTIONS',
      headers: {
        origin: 'http://localhost:8080',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type,x-ms-bot-agent',
        'access-control-request-private-network': 'true',
      },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), 'http://localhost:8080');
    assert.match(pre.headers.get('access-control-allow-methods')!, /POST/);
    assert.equal(pre.headers.get('access-control-allow-headers'), 'authorization,content-type,x-ms-bot-agent');
    assert.equal(pre.headers.get('access-control-allow-private-network'), 'true');
    assert.ok(Number(pre.headers.get('access-control-max-age')) > 0);
    const plain = await fetch(r.domain + '/tokens/generate', { method: 'OPTIONS' });
    assert.equal(plain.headers.get('access-control-allow-origin'), '*');
    assert.match(plain.headers.get('access-control-allow-headers')!, /authorization, content-type, x-ms-bot-agent, x-requested-with/);
    assert.equal(plain.headers.get('access-control-allow-private-network'), null);
    const gen = await call(r.domain, 'POST', '/tokens/generate', { bearer: 's', headers: { origin: 'http://localhost:8080' } });
    assert.equal(gen.headers.get('access-control-allow-origin'), 'http://localhost:8080');
    const miss = await call(r.domain, 'POST', '/conversations/x/activities', { bearer: 's', body: {} });
    assert.equal(miss.headers.get('access-control-allow-origin'), '*');
    assert.equal(r.summary().conversations, 1, 'preflights start nothing');
  });

  it('serves under the recorded base path only, and says which', async () => {
    const r = await replayer({ cassette: wsCassette({ basePath: '/custom/dl' }), speed: 0 });
    assert.equal(r.domain, `${r.url}/custom/dl`);
    const outside = await call(r.url, 'POST', '/v3/directline/tokens/generate', { bearer: 's' });
    assert.equal(outside.status, 404);
    assert.match(outside.body.error.message, /\/custom\/dl/);
    const conv = await startConversation(r.domain);
    assert.equal(new URL(conv.streamUrl).pathname, `/custom/dl/conversations/${conv.conversationId}/stream`);
    const stream = new StreamClient(conv.streamUrl);
    await stream.arrivalOf('Welcome to the emulator bot!');
    stream.close();
  });

  it('puts publicUrl into streamUrls', async () => {
    const r = await replayer({ cassette: wsCassette(), speed: 0, publicUrl: 'https://bots.example.test:8443' });
    const conv = await startConversation(r.domain);
    assert.ok(
      conv.streamUrl.startsWith(`wss://bots.example.test:8443/v3/directline/conversations/${conv.conversationId}/stream?watermark=-&t=`),
    );
  });
});

describe('lifecycle', () => {
  it('close() ends sockets, timers and the server', async () => {
    const r = await startReplayer({ cassette: wsCassette(), speed: 1 });
    const conv = await startConversation(r.domain);
    const stream = new StreamClient(conv.streamUrl);
    await stream.opened;
    // a POST whose recorded response is 300 ms away and replies pending
    const pending = call(r.domain, 'POST', `/conversations/${conv.conversationId}/activities`, {
      bearer: conv.token,
      body: userMessage('hello', conv.userId, 'x'),
    }).catch((e) => e);
    await sleep(20);
    await r.close();
    const closed = await stream.closed;
    assert.equal(closed.code, 1001);
    assert.ok((await pending) instanceof Error, 'the pending request is cut off');
    await assert.rejects(fetch(r.domain + '/tokens/generate', { method: 'POST' }));
  });

  it('rejects a bad speed and a bad cassette', async () => {
    await assert.rejects(startReplayer({ cassette: wsCassette(), speed: -1 }), RangeError);
    await assert.rejects(startReplayer({ cassette: '/nonexistent/cassette.json' }), /cannot read the cassette/);
  });
});
