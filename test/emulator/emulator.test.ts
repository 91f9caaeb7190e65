// Exercises the Direct Line 3.0 emulator with plain HTTP (fetch), raw ws clients and the official
// botframework-directlinejs client in both WebSocket and polling mode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { eventually, sleep } from '../support/async.js';
import { call, type Reply } from '../support/http.js';
import {
  startEmulator,
  COLLISION_CLOSE_CODE,
  DROP_CLOSE_CODE,
  LIVESTREAM_CHUNKS,
  LIVESTREAM_TEXT,
  type Emulator,
  type EmulatorOptions,
} from './index.js';
import {
  createDirectLine,
  endDirectLine,
  postAndWait,
  statusLog,
  waitForActivities,
  ConnectionStatus,
} from '../support/directline-client.js';

// ---------- helpers ----------

async function withEmulator(opts: EmulatorOptions, fn: (emu: Emulator) => Promise<void>): Promise<void> {
  const emu = await startEmulator(opts);
  try {
    await fn(emu);
  } finally {
    await emu.close();
  }
}

/** The shared `call` against the emulator: its secret is the bearer unless `auth` says otherwise (null: none); a
 * string body is sent as is (JSON content type), anything else as JSON; `rawBody` goes as it is. */
function emuCall(
  emu: Emulator,
  method: string,
  path: string,
  opts: { auth?: string | null; body?: unknown; rawBody?: BodyInit; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const bearer = opts.auth === undefined ? emu.secret : opts.auth;
  if (typeof opts.body === 'string') {
    return call(emu.domain, method, path, { bearer, raw: opts.body, headers: { 'content-type': 'application/json', ...opts.headers } });
  }
  return call(emu.domain, method, path, { bearer, body: opts.body, raw: opts.rawBody, headers: opts.headers });
}

async function startConversation(emu: Emulator, bearer: string = emu.secret, body?: unknown): Promise<Reply> {
  return emuCall(emu, 'POST', '/conversations', { auth: bearer, body });
}

async function generateToken(emu: Emulator, body?: unknown): Promise<{ conversationId: string; token: string; expires_in: number }> {
  const r = await emuCall(emu, 'POST', '/tokens/generate', { body });
  assert.equal(r.status, 200);
  return r.json;
}

/** A raw ws client that keeps every frame as text (keep-alives included). */
class StreamClient {
  readonly frames: string[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.frames.push(data.toString()));
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static open(url: string): Promise<StreamClient> {
    const ws = new WebSocket(url);
    const client = new StreamClient(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
    });
  }

  /** Parsed non-empty frames. */
  get sets(): any[] {
    return this.frames.filter((f) => f.trim() !== '').map((f) => JSON.parse(f));
  }

  get activities(): any[] {
    return this.sets.flatMap((s) => s.activities);
  }

  waitFor(pred: (c: StreamClient) => boolean, what: string, timeoutMs = 3000): Promise<StreamClient> {
    return eventually(() => pred(this) && this, what, timeoutMs);
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.terminate();
    await this.closed;
  }
}

/** Performs a WebSocket handshake by hand and reports the HTTP status (101 or the rejection). */
function upgrade(url: string): Promise<{ status: number; body: any; contentType?: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url.replace(/^ws/, 'http'), {
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
      },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, body: undefined });
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined, contentType: res.headers['content-type'] }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

function decodeJwt(token: string): { header: any; claims: any } {
  const parts = token.split('.');
  assert.equal(parts.length, 3, 'token has three parts');
  return {
    header: JSON.parse(Buffer.from(parts[0]!, 'base64url').toString()),
    claims: JSON.parse(Buffer.from(parts[1]!, 'base64url').toString()),
  };
}

const TIMESTAMP_7 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/;
const JSON_UTF8 = 'application/json; charset=utf-8';

// ---------- REST ----------

test('tokens/generate fixes the conversation and tokens/refresh issues a new token for it', async () => {
  await withEmulator({}, async (emu) => {
    // Property-name casing is not significant (reference §1.1).
    const gen = await emuCall(emu, 'POST', '/tokens/generate', { body: { User: { Id: 'dl_user1', Name: 'Ann' } } });
    assert.equal(gen.status, 200);
    assert.equal(gen.headers.get('content-type'), JSON_UTF8);
    assert.equal(gen.headers.get('access-control-allow-origin'), '*');
    assert.deepEqual(Object.keys(gen.json).sort(), ['conversationId', 'expires_in', 'token']);
    assert.match(gen.json.conversationId, /^[A-Za-z0-9]{22}-us$/);
    assert.equal(gen.json.expires_in, 3600);
    const { header, claims } = decodeJwt(gen.json.token);
    assert.equal(header.alg, 'RS256');
    assert.equal(claims.conv, gen.json.conversationId);
    assert.equal(claims.user, 'dl_user1');
    assert.equal(claims.exp - claims.nbf, 3600);
    assert.ok(claims.bot && claims.site && claims.jti);

    const ref = await emuCall(emu, 'POST', '/tokens/refresh', { auth: gen.json.token });
    assert.equal(ref.status, 200);
    assert.equal(ref.json.conversationId, gen.json.conversationId);
    assert.notEqual(ref.json.token, gen.json.token);
    assert.equal(decodeJwt(ref.json.token).claims.user, 'dl_user1');
    assert.deepEqual(emu.issuedTokens(), [gen.json.token, ref.json.token]);
    // The old token stays valid until it expires.
    assert.equal((await emuCall(emu, 'POST', '/tokens/refresh', { auth: gen.json.token })).status, 200);

    // Generate needs a secret; refresh needs a token.
    assert.equal((await emuCall(emu, 'POST', '/tokens/generate', { auth: ref.json.token })).status, 403);
    assert.equal((await emuCall(emu, 'POST', '/tokens/refresh')).status, 403);
    assert.deepEqual(emu.conversations(), [gen.json.conversationId]);
  });
});

test('authorization: 401 without credentials, 403 for unknown, foreign or expired tokens', async () => {
  await withEmulator({ tokenTtlMs: 300 }, async (emu) => {
    const missing = await emuCall(emu, 'POST', '/conversations', { auth: null });
    assert.equal(missing.status, 401);
    assert.equal(missing.headers.get('content-type'), JSON_UTF8);
    assert.deepEqual(missing.json, { error: { code: 'BadArgument', message: 'Missing token or secret' } });

    const unknown = await emuCall(emu, 'POST', '/conversations', { auth: 'not-a-token' });
    assert.equal(unknown.status, 403);
    assert.equal(unknown.json.error.code, 'BadArgument');

    const a = await generateToken(emu);
    const b = await generateToken(emu);
    const foreign = await emuCall(emu, 'GET', `/conversations/${b.conversationId}/activities`, { auth: a.token });
    assert.equal(foreign.status, 403);
    assert.equal((await emuCall(emu, 'GET', `/conversations/${a.conversationId}/activities`, { auth: a.token })).status, 200);

    await sleep(350);
    for (const [method, path] of [
      ['POST', '/tokens/refresh'],
      ['POST', '/conversations'],
      ['GET', `/conversations/${a.conversationId}/activities`],
    ] as const) {
      const expired = await emuCall(emu, method, path, { auth: a.token });
      assert.equal(expired.status, 403, `${method} ${path}`);
      assert.equal(expired.json.error.code, 'TokenExpired');
    }
  });
});

test('start conversation: a secret always creates (201), a token creates once (201) then answers 200', async () => {
  await withEmulator({}, async (emu) => {
    const s1 = await startConversation(emu);
    const s2 = await startConversation(emu);
    assert.equal(s1.status, 201);
    assert.equal(s2.status, 201);
    assert.notEqual(s1.json.conversationId, s2.json.conversationId);

    const gen = await generateToken(emu, { user: { id: 'dl_u' } });
    const first = await startConversation(emu, gen.token);
    assert.equal(first.status, 201);
    const id = gen.conversationId;
    assert.equal(first.json.conversationId, id);
    assert.notEqual(first.json.token, gen.token, 'start returns a new token');
    assert.equal(first.json.expires_in, 3600);
    assert.match(first.json.referenceGrammarId, /^[0-9a-f-]{36}$/);
    const streamUrl = new URL(first.json.streamUrl);
    assert.equal(streamUrl.origin, emu.url.replace('http', 'ws'));
    assert.equal(streamUrl.pathname, `/v3/directline/conversations/${id}/stream`);
    assert.equal(streamUrl.searchParams.get('watermark'), '-');
    const t = streamUrl.searchParams.get('t')!;
    assert.notEqual(t, first.json.token, 'the stream token is a separate token');
    assert.ok(emu.issuedTokens().includes(t));

    const again = await startConversation(emu, gen.token);
    assert.equal(again.status, 200);
    assert.equal(again.json.conversationId, id);
    assert.equal(emu.conversations().length, 3);

    // The welcome is sent once, to the token's user.
    const acts = await eventually(async () => {
      const r = await emuCall(emu, 'GET', `/conversations/${id}/activities`);
      return r.json.activities.length > 0 && r.json.activities;
    }, 'welcome');
    await sleep(50);
    const all = (await emuCall(emu, 'GET', `/conversations/${id}/activities`)).json.activities;
    assert.equal(all.length, 1);
    assert.equal(acts[0].text, 'Welcome to the emulator bot!');
    assert.deepEqual(acts[0].recipient, { id: 'dl_u', role: 'user' });
    assert.deepEqual(acts[0].from, { id: 'emulator-bot', name: 'Emulator Bot', role: 'bot' });
  });
});

test('post activity: stamped echo with channelData untouched, typing only on the stream, bot reply, GET with watermark', async () => {
  await withEmulator({}, async (emu) => {
    const start = await startConversation(emu);
    const id = start.json.conversationId;
    const stream = await StreamClient.open(start.json.streamUrl);
    try {
      await stream.waitFor((c) => c.activities.length === 1, 'welcome');
      assert.deepEqual(stream.sets[0].watermark, '0');

      const channelData = { clientActivityID: 'abc-123', nested: { list: [1, 'two', null], flag: false } };
      const post = await emuCall(emu, 'POST', `/conversations/${id}/activities`, {
        body: { type: 'message', text: 'hello', channelId: 'webchat', from: { id: 'u1', name: 'User' }, channelData, locale: 'en-US' },
      });
      const framesAtResponse = stream.activities.map((a) => a.type);
      assert.equal(post.status, 200);
      assert.deepEqual(post.json, { id: `${id}|0000001` });
      // The bot is called synchronously: its typing is out before the POST answers (reference §6.8).
      assert.deepEqual(framesAtResponse, ['message', 'message', 'typing']);

      await stream.waitFor((c) => c.activities.some((a) => a.text === 'You said: hello'), 'reply');
      const [welcomeSet, echoSet, typingSet, replySet] = stream.sets;
      assert.equal(welcomeSet.activities.length, 1);
      const echo = echoSet.activities[0];
      assert.equal(echoSet.watermark, '1');
      assert.equal(echo.id, `${id}|0000001`);
      assert.deepEqual(echo.channelData, channelData);
      assert.equal(echo.channelId, 'directline');
      assert.deepEqual(echo.conversation, { id });
      assert.deepEqual(echo.from, { id: 'u1', name: 'User', role: 'user' });
      assert.equal(echo.serviceUrl, `${emu.url}/`);
      assert.equal(echo.locale, 'en-US');
      assert.match(echo.timestamp, TIMESTAMP_7);

      assert.ok(!('watermark' in typingSet), 'typing frames carry no watermark');
      assert.equal(typingSet.activities[0].type, 'typing');

      const reply = replySet.activities[0];
      assert.equal(replySet.watermark, '3');
      assert.equal(reply.replyToId, echo.id);
      assert.deepEqual(reply.from, { id: 'emulator-bot', name: 'Emulator Bot', role: 'bot' });
      assert.deepEqual(reply.recipient, { id: 'u1', name: 'User', role: 'user' });
      assert.equal(reply.channelId, 'directline');
      assert.match(reply.timestamp, TIMESTAMP_7);

      // GET never returns typing; watermarks are decimal strings.
      const all = await emuCall(emu, 'GET', `/conversations/${id}/activities?watermark=`);
      assert.deepEqual(
        all.json.activities.map((a: any) => a.text),
        ['Welcome to the emulator bot!', 'hello', 'You said: hello'],
      );
      assert.equal(all.json.watermark, '3');
      assert.deepEqual(all.json.activities[1], echo, 'GET and WS deliver the same echo');
      const after1 = await emuCall(emu, 'GET', `/conversations/${id}/activities?watermark=1`);
      assert.deepEqual(
        after1.json.activities.map((a: any) => a.text),
        ['You said: hello'],
      );
      const none = await emuCall(emu, 'GET', `/conversations/${id}/activities?watermark=3`);
      assert.deepEqual(none.json, { activities: [], watermark: '3' });
    } finally {
      await stream.close();
    }
  });
});

test('default bot scripts: burst, end, and a custom script', async () => {
  await withEmulator({}, async (emu) => {
    const { json } = await startConversation(emu);
    const id = json.conversationId;
    await emuCall(emu, 'POST', `/conversations/${id}/activities`, { body: { type: 'message', text: 'burst 3', from: { id: 'u' } } });
    await emuCall(emu, 'POST', `/conversations/${id}/activities`, { body: { type: 'message', text: 'end', from: { id: 'u' } } });
    await emuCall(emu, 'POST', `/conversations/${id}/activities`, { body: { type: 'event', name: 'ping', from: { id: 'u' } } });
    const acts = await eventually(async () => {
      const r = await emuCall(emu, 'GET', `/conversations/${id}/activities`);
      return r.json.activities.length >= 7 && r.json.activities;
    }, 'burst and end');
    const botTexts = acts.filter((a: any) => a.from.role === 'bot').map((a: any) => `${a.type}:${a.text ?? ''}`);
    assert.deepEqual(botTexts.slice(1).sort(), ['endOfConversation:', 'message:burst 1/3', 'message:burst 2/3', 'message:burst 3/3']);
  });

  await withEmulator(
    { bot: { welcome: [], postDelayMs: 0, reply: (a) => [{ type: 'event', text: `got ${a.type}`, delayMs: 10 }] } },
    async (emu) => {
      const { json } = await startConversation(emu);
      const id = json.conversationId;
      await emuCall(emu, 'POST', `/conversations/${id}/activities`, { body: { type: 'event', name: 'x', from: { id: 'u' } } });
      const acts = await eventually(async () => {
        const r = await emuCall(emu, 'GET', `/conversations/${id}/activities`);
        return r.json.activities.length >= 2 && r.json.activities;
      }, 'custom reply');
      assert.deepEqual(
        acts.map((a: any) => `${a.type}:${a.text ?? ''}`),
        ['event:', 'event:got event'],
      );
    },
  );

  await withEmulator(
    {
      bot: {
        reply: () => {
          throw new Error('bot crashed');
        },
      },
    },
    async (emu) => {
      const { json } = await startConversation(emu);
      const res = await emuCall(emu, 'POST', `/conversations/${json.conversationId}/activities`, {
        body: { type: 'message', text: 'boom', from: { id: 'u' } },
      });
      assert.equal(res.status, 502);
      assert.deepEqual(res.json, {
        error: { code: 'BotError', message: 'Failed to send activity: bot returned an error' },
        httpStatusCode: 500,
      });
    },
  );
});

test("livestream ('stream'): growing typing chunks 50–80 ms apart, streamId = the first chunk's id, then one final message", async () => {
  await withEmulator({}, async (emu) => {
    const { json } = await startConversation(emu);
    const id = json.conversationId;
    const stream = await StreamClient.open(json.streamUrl);
    await stream.waitFor((c) => c.activities.length >= 1, 'welcome');
    const arrivals: number[] = [];
    stream.ws.on('message', () => arrivals.push(performance.now()));
    await emuCall(emu, 'POST', `/conversations/${id}/activities`, { body: { type: 'message', text: 'stream', from: { id: 'u' } } });
    await stream.waitFor((c) => c.activities.some((a) => a.channelData?.streamType === 'final'), 'the final message', 5000);
    const streamed = stream.activities.filter((a) => a.channelData?.streamType !== undefined);
    const interim = streamed.slice(0, -1);
    const final = streamed.at(-1)!;
    assert.equal(interim.length, LIVESTREAM_CHUNKS);
    assert.ok(interim.every((a) => a.type === 'typing' && a.channelData.streamType === 'streaming'));
    assert.deepEqual(
      interim.map((a) => a.channelData.streamSequence),
      Array.from({ length: LIVESTREAM_CHUNKS }, (_, i) => i + 1),
    );
    assert.equal(interim[0].channelData.streamId, undefined, 'the first chunk opens the stream: no streamId');
    const streamId = interim[0].id;
    assert.ok(
      streamed.slice(1).every((a) => a.channelData.streamId === streamId),
      'streamId is the id the emulator gave the first chunk',
    );
    for (let i = 1; i < interim.length; i++) {
      const [before, now] = [interim[i - 1].text, interim[i].text];
      assert.ok(now.startsWith(before) && now.length > before.length, `chunk ${i + 1} grows`);
    }
    assert.deepEqual([final.type, final.text, final.channelData.streamSequence], ['message', LIVESTREAM_TEXT, undefined]);
    assert.ok(LIVESTREAM_TEXT.startsWith(interim.at(-1).text));
    // Chained timers only wait at least their delay: no chunk comes sooner than 50 ms after the one before.
    const frameGaps = arrivals.slice(-LIVESTREAM_CHUNKS).map((t, i, all) => (i ? t - all[i - 1]! : 50));
    assert.ok(
      frameGaps.every((g) => g >= 45),
      `gaps ${frameGaps.map((g) => g.toFixed(0)).join(' ')}`,
    );
    // Typing is never stored: a poll sees only the final message of the stream.
    const polled = (await emuCall(emu, 'GET', `/conversations/${id}/activities`)).json.activities;
    assert.deepEqual(
      polled.filter((a: any) => a.channelData?.streamType).map((a: any) => a.type),
      ['message'],
    );
    await stream.close();
  });
});

test('reconnect: fresh stream URL; with a watermark the stream replays after it, without one only new activities', async () => {
  await withEmulator({}, async (emu) => {
    const start = await startConversation(emu);
    const id = start.json.conversationId;
    await emuCall(emu, 'POST', `/conversations/${id}/activities`, { body: { type: 'message', text: 'one', from: { id: 'u' } } });
    await eventually(
      async () => (await emuCall(emu, 'GET', `/conversations/${id}/activities`)).json.activities.length === 3,
      'reply to one',
    );

    const rec = await emuCall(emu, 'GET', `/conversations/${id}?watermark=1`);
    assert.equal(rec.status, 200);
    assert.deepEqual(Object.keys(rec.json).sort(), ['conversationId', 'expires_in', 'streamUrl', 'token']);
    assert.equal(rec.json.conversationId, id);
    const url = new URL(rec.json.streamUrl);
    assert.equal(url.searchParams.get('watermark'), '1');
    assert.notEqual(url.searchParams.get('t'), new URL(start.json.streamUrl).searchParams.get('t'));
    const replay = await StreamClient.open(rec.json.streamUrl);
    try {
      await replay.waitFor((c) => c.activities.length === 1, 'replay after watermark 1');
      assert.equal(replay.activities[0].text, 'You said: one');
      assert.equal(replay.sets[0].watermark, '3');
    } finally {
      await replay.close();
    }

    const fresh = await emuCall(emu, 'GET', `/conversations/${id}`);
    assert.equal(new URL(fresh.json.streamUrl).searchParams.get('watermark'), '-');
    const live = await StreamClient.open(fresh.json.streamUrl);
    try {
      await sleep(50);
      assert.equal(live.frames.length, 0, 'nothing replayed without a watermark');
      await emuCall(emu, 'POST', `/conversations/${id}/activities`, { body: { type: 'message', text: 'two', from: { id: 'u' } } });
      await live.waitFor((c) => c.activities.some((a) => a.text === 'You said: two'), 'live reply');
      assert.equal(live.activities[0].text, 'two');
    } finally {
      await live.close();
    }

    // The reconnect token works for the conversation.
    assert.equal((await emuCall(emu, 'GET', `/conversations/${id}/activities`, { auth: rec.json.token })).status, 200);
    assert.equal((await emuCall(emu, 'GET', '/conversations/NoSuchConversation0000-us?watermark=1')).status, 404);
  });
});

test('upload: multipart with an activity part and files, raw single file, bytes served at contentUrl', async () => {
  await withEmulator({}, async (emu) => {
    const { json } = await startConversation(emu);
    const id = json.conversationId;
    const png = randomBytes(300);
    const boundary = '----emulatorBoundary7MA4YWxkTrZu0gW';
    const part = (headers: string, data: Buffer | string): Buffer =>
      Buffer.concat([Buffer.from(`--${boundary}\r\n${headers}\r\n\r\n`), Buffer.from(data), Buffer.from('\r\n')]);
    const template = {
      type: 'message',
      text: 'see files',
      from: { id: 'u7', name: 'Up' },
      channelData: { clientActivityID: 'up-1' },
      attachments: [{ contentType: 'image/png', name: 'a.png' }],
    };
    const body = Buffer.concat([
      part(
        'Content-Disposition: form-data; name="activity"; filename="blob"\r\nContent-Type: application/vnd.microsoft.activity',
        JSON.stringify(template),
      ),
      part('Content-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png', png),
      part(
        'Content-Disposition: form-data; name="file"; filename="notes.txt"\r\nContent-Type: text/plain',
        'line1\r\n--not-a-boundary\r\n',
      ),
      Buffer.from(`--${boundary}--\r\n`),
    ]);
    const up = await emuCall(emu, 'POST', `/conversations/${id}/upload?userId=u7`, {
      rawBody: body,
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    });
    assert.equal(up.status, 200);
    assert.equal(up.json.id, `${id}|0000001`);

    const acts = await eventually(async () => {
      const r = await emuCall(emu, 'GET', `/conversations/${id}/activities`);
      return r.json.activities.some((a: any) => a.text === 'Received 2 attachment(s)') && r.json.activities;
    }, 'upload reply');
    const echo = acts.find((a: any) => a.id === up.json.id);
    assert.equal(echo.text, 'see files');
    assert.deepEqual(echo.channelData, { clientActivityID: 'up-1' });
    assert.deepEqual(echo.from, { id: 'u7', name: 'Up', role: 'user' });
    assert.deepEqual(
      echo.attachments.map((a: any) => [a.contentType, a.name]),
      [
        ['image/png', 'a.png'],
        ['text/plain', 'notes.txt'],
      ],
    );
    for (const a of echo.attachments) assert.ok(a.contentUrl.startsWith(`${emu.domain}/attachments/`), a.contentUrl);
    const img = await fetch(echo.attachments[0].contentUrl);
    assert.equal(img.headers.get('content-type'), 'image/png');
    assert.deepEqual(Buffer.from(await img.arrayBuffer()), png);
    assert.equal(await (await fetch(echo.attachments[1].contentUrl)).text(), 'line1\r\n--not-a-boundary\r\n');

    // A FormData body as browsers (and fetch) build it, without activity part → a message from userId.
    const form = new FormData();
    form.append('file', new Blob(['hello file'], { type: 'text/plain' }), 'hello.txt');
    const up2 = await emuCall(emu, 'POST', `/conversations/${id}/upload?userId=u8`, { rawBody: form });
    assert.equal(up2.status, 200);
    // Raw single file.
    const up3 = await emuCall(emu, 'POST', `/conversations/${id}/upload?userId=u9`, {
      rawBody: png,
      headers: { 'content-type': 'image/jpeg', 'content-disposition': 'name="file"; filename="x.jpg"' },
    });
    assert.equal(up3.status, 200);
    const all = (await emuCall(emu, 'GET', `/conversations/${id}/activities`)).json.activities;
    const e2 = all.find((a: any) => a.id === up2.json.id);
    assert.equal(e2.type, 'message');
    assert.equal(e2.from.id, 'u8');
    assert.deepEqual(
      e2.attachments.map((a: any) => [a.contentType, a.name]),
      [['text/plain', 'hello.txt']],
    );
    const e3 = all.find((a: any) => a.id === up3.json.id);
    assert.equal(e3.from.id, 'u9');
    assert.deepEqual(
      e3.attachments.map((a: any) => [a.contentType, a.name]),
      [['image/jpeg', 'x.jpg']],
    );
    assert.deepEqual(Buffer.from(await (await fetch(e3.attachments[0].contentUrl)).arrayBuffer()), png);
  });
});

// ---------- WebSocket ----------

test('stream: empty keep-alive frames every keepAliveMs; client pings are ignored', async () => {
  await withEmulator({ keepAliveMs: 40, bot: { welcome: [] } }, async (emu) => {
    const { json } = await startConversation(emu);
    const stream = await StreamClient.open(json.streamUrl);
    try {
      stream.ws.send('');
      stream.ws.send('{"type":"message","text":"ignored"}');
      await stream.waitFor((c) => c.frames.filter((f) => f === '').length >= 3, 'keep-alives');
      assert.equal(stream.sets.length, 0);
      assert.equal(stream.ws.readyState, WebSocket.OPEN);
      const acts = (await emuCall(emu, 'GET', `/conversations/${json.conversationId}/activities`)).json.activities;
      assert.equal(acts.length, 0, 'activities sent over the socket are not accepted');
    } finally {
      await stream.close();
    }
  });
});

test('stream handshake: 403 after the token window or expireStreamTokens(), 403 for bad t, 404 for unknown conversation', async () => {
  await withEmulator({ streamTokenTtlMs: 200 }, async (emu) => {
    const { json } = await startConversation(emu);
    const id = json.conversationId;
    await sleep(260);
    const late = await upgrade(json.streamUrl);
    assert.equal(late.status, 403);
    assert.equal(late.contentType, JSON_UTF8);
    assert.equal(late.body.error.code, 'TokenExpired');

    const rec = await emuCall(emu, 'GET', `/conversations/${id}?watermark=0`);
    assert.equal((await upgrade(rec.json.streamUrl)).status, 101);

    const rec2 = await emuCall(emu, 'GET', `/conversations/${id}`);
    emu.expireStreamTokens();
    assert.equal((await upgrade(rec2.json.streamUrl)).status, 403);
    // Tokens issued afterwards are fine again.
    const rec3 = await emuCall(emu, 'GET', `/conversations/${id}`);
    assert.equal((await upgrade(rec3.json.streamUrl)).status, 101);

    const base = `${emu.domain.replace('http', 'ws')}/conversations/${id}/stream`;
    assert.equal((await upgrade(`${base}?watermark=-&t=bogus`)).status, 403);
    assert.equal((await upgrade(`${base}?watermark=-`)).status, 403);
    // A conversation token is not a stream token.
    assert.equal((await upgrade(`${base}?t=${rec3.json.token}`)).status, 403);
    const t = new URL((await emuCall(emu, 'GET', `/conversations/${id}`)).json.streamUrl).searchParams.get('t');
    const unknown = await upgrade(`${emu.domain.replace('http', 'ws')}/conversations/NoSuchConversation0000-us/stream?t=${t}`);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'BadArgument');

    const upgrades = emu.requests.filter((r) => r.path.includes('/stream'));
    assert.ok(upgrades.length >= 7 && upgrades.every((r) => r.headers.upgrade === 'websocket'));
  });
});

test('stream: a second socket closes the first with collision; dropSocket closes with 1011 by default', async () => {
  await withEmulator({ bot: { welcome: [] } }, async (emu) => {
    const { json } = await startConversation(emu);
    const id = json.conversationId;
    const first = await StreamClient.open(json.streamUrl);
    const second = await StreamClient.open((await emuCall(emu, 'GET', `/conversations/${id}`)).json.streamUrl);
    try {
      assert.deepEqual(await first.closed, { code: COLLISION_CLOSE_CODE, reason: 'collision' });
      assert.equal(COLLISION_CLOSE_CODE, 4000);
      await emuCall(emu, 'POST', `/conversations/${id}/activities`, { body: { type: 'message', text: 'hi', from: { id: 'u' } } });
      await second.waitFor((c) => c.activities.some((a) => a.text === 'You said: hi'), 'reply on the surviving socket');

      emu.dropSocket(id);
      assert.deepEqual(await second.closed, { code: DROP_CLOSE_CODE, reason: 'server closed the stream' });
      assert.equal(DROP_CLOSE_CODE, 1011);

      const third = await StreamClient.open((await emuCall(emu, 'GET', `/conversations/${id}`)).json.streamUrl);
      emu.dropSocket(id, 4001, 'custom');
      assert.deepEqual(await third.closed, { code: 4001, reason: 'custom' });
      emu.dropSocket(id); // no socket: no-op
    } finally {
      await first.close();
      await second.close();
    }
  });
});

// ---------- fault injection, routing, CORS ----------

test('failNext: injected statuses with Direct Line bodies, counted, per route, before any side effect', async () => {
  await withEmulator({ bot: { welcome: [] } }, async (emu) => {
    emu.failNext('conversations.start', 429, { retryAfter: '1' });
    const limited = await startConversation(emu);
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '1');
    assert.equal(limited.headers.get('content-type'), JSON_UTF8);
    assert.ok(limited.json.error.code);
    assert.equal(emu.conversations().length, 0, 'nothing created');
    const { json, status } = await startConversation(emu);
    assert.equal(status, 201);
    const id = json.conversationId;

    emu.failNext('activities.post', 502, { count: 2 });
    emu.failNext('activities.get', 500);
    const msg = { body: { type: 'message', text: 'x', from: { id: 'u' } } };
    for (let i = 0; i < 2; i++) {
      const bad = await emuCall(emu, 'POST', `/conversations/${id}/activities`, msg);
      assert.equal(bad.status, 502);
      assert.deepEqual(bad.json, {
        error: { code: 'BotError', message: 'Failed to send activity: bot returned an error' },
        httpStatusCode: 500,
      });
    }
    assert.equal((await emuCall(emu, 'GET', `/conversations/${id}/activities`)).status, 500);
    const ok = await emuCall(emu, 'POST', `/conversations/${id}/activities`, msg);
    assert.equal(ok.status, 200);
    assert.equal(ok.json.id, `${id}|0000000`, 'failed posts stored nothing');

    // Faults come before auth.
    emu.failNext('tokens.refresh', 403);
    const r = await emuCall(emu, 'POST', '/tokens/refresh', { auth: null });
    assert.equal(r.status, 403);
    assert.equal(r.json.error.code, 'TokenExpired');
    emu.failNext('conversations.reconnect', 404);
    assert.equal((await emuCall(emu, 'GET', `/conversations/${id}`)).status, 404);
    assert.equal((await emuCall(emu, 'GET', `/conversations/${id}`)).status, 200);
    emu.failNext('upload', 504);
    const up = await emuCall(emu, 'POST', `/conversations/${id}/upload`, { rawBody: 'x', headers: { 'content-type': 'text/plain' } });
    assert.equal(up.status, 504);
    assert.equal(up.json.httpStatusCode, 504);
    emu.failNext('tokens.generate', 500);
    assert.equal((await emuCall(emu, 'POST', '/tokens/generate')).status, 500);
    assert.equal((await emuCall(emu, 'POST', '/tokens/generate')).status, 200);
  });
});

test('custom basePath serves REST and stream under the prefix only', async () => {
  await withEmulator({ basePath: '/custom/dl' }, async (emu) => {
    assert.equal(emu.domain, `${emu.url}/custom/dl`);
    const start = await startConversation(emu);
    assert.equal(start.status, 201);
    const url = new URL(start.json.streamUrl);
    assert.equal(url.pathname, `/custom/dl/conversations/${start.json.conversationId}/stream`);
    const stream = await StreamClient.open(start.json.streamUrl);
    try {
      await stream.waitFor((c) => c.activities.length === 1, 'welcome under custom base');
    } finally {
      await stream.close();
    }
    const res = await fetch(`${emu.url}/v3/directline/conversations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${emu.secret}` },
    });
    assert.equal(res.status, 404);
    assert.equal((await res.json()).error.code, 'BadArgument');
  });
});

test('routing errors, CORS preflight and the request log', async () => {
  await withEmulator({}, async (emu) => {
    const unknownRoute = await emuCall(emu, 'GET', '/nope');
    assert.equal(unknownRoute.status, 404);
    assert.equal(unknownRoute.headers.get('content-type'), JSON_UTF8);
    assert.equal(typeof unknownRoute.json.error.message, 'string');

    const unknownConv = await emuCall(emu, 'GET', '/conversations/NoSuchConversation0000-us/activities');
    assert.equal(unknownConv.status, 404);
    assert.equal(unknownConv.json.error.code, 'BadArgument');
    assert.equal(
      (await emuCall(emu, 'POST', '/conversations/NoSuchConversation0000-us/activities', { body: { type: 'message', from: { id: 'u' } } }))
        .status,
      404,
    );

    const malformed = await emuCall(emu, 'POST', '/conversations', { body: '{"user":' });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.json.error.code, 'BadArgument');
    assert.equal(emu.conversations().length, 0);

    const { json } = await startConversation(emu);
    const noFrom = await emuCall(emu, 'POST', `/conversations/${json.conversationId}/activities`, { body: { type: 'message', text: 'x' } });
    assert.equal(noFrom.status, 400);
    assert.equal((await emuCall(emu, 'DELETE', `/conversations/${json.conversationId}/activities`)).status, 405);

    const pre = await fetch(`${emu.domain}/conversations`, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://page.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type,x-ms-bot-agent',
      },
    });
    assert.equal(pre.status, 200);
    assert.equal(pre.headers.get('access-control-allow-origin'), '*');
    const allowed = pre.headers
      .get('access-control-allow-headers')!
      .split(',')
      .map((h) => h.trim());
    for (const h of ['authorization', 'content-type', 'x-ms-bot-agent', 'x-requested-with']) assert.ok(allowed.includes(h), h);

    const port = new URL(emu.url).port;
    const entry = emu.requests.find(
      (r) => r.method === 'GET' && r.path === '/v3/directline/conversations/NoSuchConversation0000-us/activities',
    );
    assert.ok(entry);
    assert.equal(entry.headers.host, `127.0.0.1:${port}`);
    assert.equal(entry.headers.authorization, `Bearer ${emu.secret}`);
    assert.ok(emu.requests.some((r) => r.method === 'OPTIONS'));
  });
});

// ---------- the official client ----------

test('botframework-directlinejs, WebSocket mode with a token: welcome, echo, typing, reply', async () => {
  await withEmulator({}, async (emu) => {
    const gen = await generateToken(emu);
    const dl = createDirectLine({ domain: emu.domain, token: gen.token, webSocket: true });
    try {
      await waitForActivities(dl, (acts) => acts.some((a) => a.text === 'Welcome to the emulator bot!'));
      const id = await postAndWait(dl, {
        type: 'message',
        text: 'hello ws',
        from: { id: 'user-ws' },
        channelData: { clientActivityID: 'c-1' },
      } as any);
      assert.equal(id, `${gen.conversationId}|0000001`);
      const acts = await waitForActivities(dl, (a) => a.some((x) => x.text === 'You said: hello ws'));
      assert.deepEqual(
        acts.map((a) => a.type),
        ['message', 'message', 'typing', 'message'],
      );
      assert.deepEqual(acts[1].channelData, { clientActivityID: 'c-1' });
      assert.equal((dl as any).conversationId, gen.conversationId);
      assert.deepEqual(statusLog(dl), [ConnectionStatus.Uninitialized, ConnectionStatus.Connecting, ConnectionStatus.Online]);
      assert.equal((dl as any).watermark, '3');

      // A 502 from the bot makes postActivity emit "retry" (reference §4.4).
      emu.failNext('activities.post', 502);
      assert.equal(await postAndWait(dl, { type: 'message', text: 'fails', from: { id: 'user-ws' } } as any), 'retry');

      const paths = emu.requests.map((r) => `${r.method} ${r.path.split('?')[0]}`);
      assert.ok(paths.includes(`GET /v3/directline/conversations/${gen.conversationId}/stream`));
      assert.ok(!paths.includes(`GET /v3/directline/conversations/${gen.conversationId}/activities`), 'no polling in WS mode');
      const startReq = emu.requests.find((r) => r.method === 'POST' && r.path === '/v3/directline/conversations')!;
      assert.match(String(startReq.headers['x-ms-bot-agent']), /^DirectLine\/3\.0 \(directlinejs 0\.15\.8\)$/);
    } finally {
      endDirectLine(dl);
    }
    assert.equal(statusLog(dl).at(-1), ConnectionStatus.Ended);
  });
});

test('botframework-directlinejs, polling mode with a secret: no typing, GET with watermarks', async () => {
  await withEmulator({}, async (emu) => {
    const dl = createDirectLine({ domain: emu.domain, secret: emu.secret, webSocket: false, pollingInterval: 200 });
    try {
      await waitForActivities(dl, (acts) => acts.length === 1);
      const id = await postAndWait(dl, { type: 'message', text: 'hello poll', from: { id: 'user-poll' } } as any);
      assert.match(id, /\|0000001$/);
      const acts = await waitForActivities(dl, (a) => a.some((x) => x.text === 'You said: hello poll'));
      assert.deepEqual(
        acts.map((a) => a.type),
        ['message', 'message', 'message'],
        'typing never reaches a polling client',
      );
      const polls = emu.requests.filter((r) => r.method === 'GET' && r.path.includes('/activities?watermark='));
      assert.ok(polls.length >= 2);
      assert.equal(polls[0]!.path.split('watermark=')[1], '', 'first poll has an empty watermark');
      assert.ok(polls.some((p) => p.path.endsWith('watermark=0')));
      assert.ok(!emu.requests.some((r) => r.path.includes('/stream')));
    } finally {
      endDirectLine(dl);
    }
  });
});

test('botframework-directlinejs reconnects after the server drops its socket and resumes from its watermark', async () => {
  await withEmulator({}, async (emu) => {
    const gen = await generateToken(emu);
    // random() = 0 → the client waits the minimum 3 s before the reconnect GET (reference §4.2 step 7).
    const dl = createDirectLine({ domain: emu.domain, token: gen.token, webSocket: true, random: () => 0 });
    try {
      await waitForActivities(dl, (acts) => acts.length === 1);
      emu.dropSocket(gen.conversationId);
      // An activity produced while the client is disconnected must be replayed after the reconnect.
      await emuCall(emu, 'POST', `/conversations/${gen.conversationId}/activities`, {
        body: { type: 'message', text: 'while away', from: { id: 'other' } },
      });
      const acts = await waitForActivities(dl, (a) => a.some((x) => x.text === 'You said: while away'), 6000);
      assert.deepEqual(
        acts.filter((a) => a.type !== 'typing').map((a) => a.text),
        ['Welcome to the emulator bot!', 'while away', 'You said: while away'],
      );
      const reconnect = emu.requests.find(
        (r) => r.method === 'GET' && r.path.startsWith(`/v3/directline/conversations/${gen.conversationId}?`),
      );
      assert.ok(reconnect, 'reconnect GET was made');
      assert.ok(reconnect.path.endsWith('?watermark=0'), reconnect.path);
      assert.equal(emu.requests.filter((r) => r.path.includes('/stream')).length, 2);
    } finally {
      endDirectLine(dl);
    }
  });
});
