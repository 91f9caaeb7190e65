// Close codes: which ones a frame may carry, and mirroring a close on a real ws socket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { clipCloseReason, closeLike, isSendableCloseCode } from '../../src/net/close-codes.js';

test('sendable close codes follow RFC 6455 (as ws validates them)', () => {
  for (const code of [1000, 1001, 1002, 1003, 1007, 1008, 1011, 1012, 1013, 1014, 3000, 4000, 4999])
    assert.equal(isSendableCloseCode(code), true, String(code));
  for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000]) assert.equal(isSendableCloseCode(code), false, String(code));
});

test('reasons are clipped to 123 bytes without splitting a character', () => {
  assert.equal(clipCloseReason('short'), 'short');
  assert.equal(clipCloseReason('x'.repeat(123)), 'x'.repeat(123));
  const clipped = clipCloseReason('é'.repeat(100)); // 2 bytes each
  assert.equal(clipped, 'é'.repeat(61));
  assert.ok(Buffer.byteLength(clipped) <= 123);
});

/** Opens a real socket pair, closes the server side with closeLike(code, reason); returns what the client saw. */
async function mirrored(code: number, reason: string): Promise<{ code: number; reason: string }> {
  const http = createServer();
  const wss = new WebSocketServer({ server: http });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  try {
    const serverSide = new Promise<WebSocket>((r) => wss.once('connection', r));
    const client = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}`);
    const closed = new Promise<{ code: number; reason: string }>((r) =>
      client.once('close', (c, why) => r({ code: c, reason: why.toString() })),
    );
    client.on('error', () => undefined);
    closeLike(await serverSide, code, reason);
    return await closed;
  } finally {
    for (const c of wss.clients) c.terminate();
    wss.close();
    http.closeAllConnections();
    await new Promise<void>((r) => http.close(() => r()));
  }
}

test('closeLike sends a sendable code with its reason', async () => {
  assert.deepEqual(await mirrored(4000, 'bye'), { code: 4000, reason: 'bye' });
  assert.deepEqual(await mirrored(1000, 'x'.repeat(200)), { code: 1000, reason: 'x'.repeat(123) });
});

test('closeLike: 1005 and unsendable codes become a bare close, 1006 a drop', async () => {
  assert.deepEqual(await mirrored(1005, 'ignored'), { code: 1005, reason: '' });
  assert.deepEqual(await mirrored(1015, 'tls'), { code: 1005, reason: '' });
  assert.deepEqual(await mirrored(1006, ''), { code: 1006, reason: '' });
});
