// No secret or token the upstream issued may reach the cassette or the log; placeholders are stable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { HttpEvent } from '../../src/cassette/schema.js';
import { collectingLogger, httpEvents, StreamClient, withRig } from './helpers.js';
import { eventually } from '../support/async.js';
import { call } from '../support/http.js';

const bodyJson = (e: HttpEvent | undefined, side: 'request' | 'response'): any =>
  ((side === 'request' ? e!.request.body : e!.response!.body) as { json: any }).json;
const bearerOf = (e: HttpEvent | undefined): string | undefined => e!.request.headers.authorization?.replace(/^Bearer /, '');

test('redaction: the secret and every issued token are absent from the cassette and the log; placeholders are stable', async () => {
  const log = collectingLogger();
  await withRig({ recorder: { logger: log.logger } }, async ({ emu, rec, cassette, load }) => {
    const user = { type: 'message', from: { id: 'dl_ann' } };
    const gen = await call(rec.domain, 'POST', '/tokens/generate', { bearer: emu.secret, body: { user: { id: 'dl_ann' } } });
    const start = await call(rec.domain, 'POST', '/conversations', { bearer: gen.json.token, body: {} });
    assert.equal(start.status, 201);
    const id: string = start.json.conversationId;
    const s1 = await StreamClient.open(start.json.streamUrl);
    await s1.waitForText('Welcome to the emulator bot!');
    await call(rec.domain, 'POST', `/conversations/${id}/activities`, { bearer: start.json.token, body: { ...user, text: 'hello' } });
    await s1.waitForText('You said: hello');

    const re = await call(rec.domain, 'GET', `/conversations/${id}?watermark=3`, { bearer: start.json.token });
    const s2 = await StreamClient.open(re.json.streamUrl);
    const ref = await call(rec.domain, 'POST', '/tokens/refresh', { bearer: re.json.token });
    // Secrets where they do not belong: in message text and channelData, in a query parameter, in a header.
    const leaky = `my secret is ${emu.secret} and my token is ${ref.json.token}.`;
    await call(rec.domain, 'POST', `/conversations/${id}/activities?token=${encodeURIComponent(ref.json.token)}`, {
      bearer: ref.json.token,
      body: { ...user, text: leaky, channelData: { note: emu.secret, t: ref.json.token } },
    });
    await s2.waitForText(`You said: ${leaky}`);
    await call(rec.domain, 'GET', `/conversations/${id}/activities?watermark=`, { bearer: ref.json.token });
    emu.dropSocket(id, 4001, `closing for ${emu.secret}`); // a token would not fit in 123 bytes
    await s2.closedWithin();
    await s1.close();

    const c = await eventually(async () => {
      const x = await load();
      return x.events.filter((e) => e.type === 'ws.close').length === 2 && x;
    }, 'both closes');
    const text = await readFile(cassette, 'utf8');
    const logText = log.text();
    assert.ok(log.lines.length > 20, 'the log captured the session');
    assert.match(logText, /"msg":"frame"/, 'debug lines (one per frame) are in the log');
    const secrets = [emu.secret, ...emu.issuedTokens()];
    assert.equal(emu.issuedTokens().length, 6, 'generate, start (token + t), reconnect (token + t), refresh, and nothing else');
    for (const [i, secret] of secrets.entries()) {
      assert.ok(!text.includes(secret), `secret #${i} is in the cassette`);
      assert.ok(!logText.includes(secret), `secret #${i} is in the log`);
      // Nor a recognisable part of it (a JWT's signature alone is enough to replay it).
      const tail = secret.slice(-24);
      assert.ok(!text.includes(tail) && !logText.includes(tail), `the end of secret #${i} leaked`);
    }

    // Placeholders: each value always gets the same one, and distinct values distinct ones.
    const ev = httpEvents(c);
    const byRoute = (route: string) => ev.filter((e) => e.route === route);
    const [genEv] = byRoute('tokens.generate');
    const [startEv] = byRoute('conversations.start');
    const [reEv] = byRoute('conversations.reconnect');
    const [refEv] = byRoute('tokens.refresh');
    const [post1, post2] = byRoute('activities.post');
    assert.equal(bearerOf(genEv), 'DLVCR_SECRET_1');
    assert.equal(bearerOf(startEv), bodyJson(genEv, 'response').token);
    assert.match(bodyJson(startEv, 'response').token, /^DLVCR_TOKEN_\d+$/);
    assert.equal(bearerOf(post1), bodyJson(startEv, 'response').token, 'the start token and the next request share a placeholder');
    assert.equal(bearerOf(reEv), bodyJson(startEv, 'response').token);
    assert.equal(bearerOf(refEv), bodyJson(reEv, 'response').token);
    assert.equal(bearerOf(post2), bodyJson(refEv, 'response').token);
    assert.equal(post2!.request.query.token, bodyJson(refEv, 'response').token);
    const tokens = [genEv, startEv, reEv, refEv].map((e) => bodyJson(e, 'response').token);
    assert.equal(new Set(tokens).size, 4);
    const sent = bodyJson(post2, 'request');
    const refToken = bodyJson(refEv, 'response').token;
    assert.equal(sent.text, `my secret is DLVCR_SECRET_1 and my token is ${refToken}.`);
    assert.deepEqual(sent.channelData, { note: 'DLVCR_SECRET_1', t: refToken });
    const closeEv = c.events.find((e) => e.type === 'ws.close' && e.code === 4001);
    assert.equal(closeEv && 'reason' in closeEv ? closeEv.reason : undefined, 'closing for DLVCR_SECRET_1');
    // The cassette says what each placeholder stands for.
    for (const p of text.match(/DLVCR_[A-Z]+_\d+/g) ?? []) assert.ok(p in c.redaction.placeholders, `${p} is declared`);
    assert.equal(c.redaction.placeholders.DLVCR_SECRET_1, 'secret');
    assert.equal(c.redaction.placeholders[refToken], 'token');
    assert.equal(Object.values(c.redaction.placeholders).filter((k) => k === 'streamToken').length, 2);
  });
});
