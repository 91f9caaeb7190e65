// One request-body reader for both servers: the body within the limit; over it, a 413 the client can read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  BodyTooLargeError,
  DEFAULT_MAX_BODY_BYTES,
  readRequestBody,
  readRequestBodyThen,
  sendBodyTooLarge,
} from '../../src/net/request-body.js';
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

test('readRequestBodyThen calls back once, with its argument: the body, or the 413 error and never the body after it', async () => {
  const calls: Array<{ arg: string; err: Error | null; bytes?: number }> = [];
  const server: Server = createServer((req, res) => {
    readRequestBodyThen(
      req,
      1000,
      (arg: string, err, body) => {
        calls.push({ arg, err, bytes: body?.length });
        if (err instanceof BodyTooLargeError) sendBodyTooLarge(res, err);
        else sendJson(res, 200, { bytes: body!.length });
      },
      `request ${calls.length + 1}`,
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const port = (server.address() as AddressInfo).port;
    assert.equal((await post(port, [Buffer.from('abc'), Buffer.from('de')])).status, 200);
    assert.equal(
      (
        await post(
          port,
          Array.from({ length: 15 }, () => Buffer.alloc(100, 0x63)),
        )
      ).status,
      413,
    );
    assert.equal((await post(port, [Buffer.alloc(1001, 0x61)], 1001)).status, 413);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
  assert.equal(calls.length, 3, 'one call per request, none after the body was refused');
  assert.deepEqual(calls[0], { arg: 'request 1', err: null, bytes: 5 });
  for (const c of calls.slice(1)) {
    assert.ok(c.err instanceof BodyTooLargeError);
    assert.equal(c.bytes, undefined);
  }
  assert.deepEqual(
    calls.map((c) => c.arg),
    ['request 1', 'request 2', 'request 3'],
  );
});
