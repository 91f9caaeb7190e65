// One request-body reader for both servers: the body within the limit; over it, a 413 the client can read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BodyTooLargeError, DEFAULT_MAX_BODY_BYTES, readRequestBody, sendBodyTooLarge } from '../../src/net/request-body.js';
import { sendJson } from '../../src/protocol/errors.js';

async function withServer(limit: number, fn: (port: number, errors: unknown[]) => Promise<void>): Promise<void> {
  const errors: unknown[] = [];
  const server: Server = createServer((req, res) => {
    readRequestBody(req, limit).then(
      (body) => sendJson(res, 200, { bytes: body.length, text: body.toString('utf8').slice(0, 20) }),
      (err) => {
        errors.push(err);
        if (err instanceof BodyTooLargeError) sendBodyTooLarge(res, err);
        else res.destroy();
      },
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    await fn((server.address() as AddressInfo).port, errors);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

/** Sends `chunks` (chunked when `declared` is undefined) and reads the answer. */
function post(port: number, chunks: Buffer[], declared?: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method: 'POST', path: '/', headers: declared === undefined ? {} : { 'content-length': String(declared) } },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    for (const c of chunks) req.write(c);
    req.end();
  });
}

test('a body within the limit is read whole, chunked or with a declared length', async () => {
  await withServer(1000, async (port) => {
    const one = await post(port, [Buffer.from('hello '), Buffer.from('world')]);
    assert.deepEqual(JSON.parse(one.body), { bytes: 11, text: 'hello world' });
    const exact = await post(port, [Buffer.alloc(1000, 0x61)], 1000);
    assert.equal(JSON.parse(exact.body).bytes, 1000);
  });
});

test('over the limit, declared or streamed: BodyTooLargeError (code BODY_TOO_LARGE) and a readable 413', async () => {
  await withServer(1000, async (port, errors) => {
    const declared = await post(port, [Buffer.alloc(1001, 0x61)], 1001);
    assert.equal(declared.status, 413);
    assert.deepEqual(JSON.parse(declared.body), { error: { code: 'BadArgument', message: 'request body over the 1000-byte limit' } });
    const streamed = await post(
      port,
      Array.from({ length: 20 }, () => Buffer.alloc(100, 0x62)),
    );
    assert.equal(streamed.status, 413);
    assert.equal(errors.length, 2);
    for (const e of errors) {
      assert.ok(e instanceof BodyTooLargeError);
      assert.equal(e.code, 'BODY_TOO_LARGE');
      assert.equal(e.limit, 1000);
    }
  });
});

test('the default limit is 64 MiB, for both servers', () => {
  assert.equal(DEFAULT_MAX_BODY_BYTES, 64 * 1024 * 1024);
});
