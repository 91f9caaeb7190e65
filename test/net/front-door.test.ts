// The shared front door: ordered handlers, the 404 nobody-took-it answers, malformed requests, the printed URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import WebSocket from 'ws';
import { FrontDoor, hostForUrl, isWildcardHost, listeningUrl } from '../../src/net/front-door.js';
import { silentLogger } from '../../src/log.js';
import { sendJson } from '../../src/protocol/errors.js';

async function withDoor(setup: (door: FrontDoor) => void, fn: (url: string, door: FrontDoor) => Promise<void>): Promise<void> {
  const door = new FrontDoor({ logger: silentLogger() });
  setup(door);
  const { url } = await door.listen(0, '127.0.0.1');
  try {
    await fn(url, door);
  } finally {
    const stopped = door.stopAccepting();
    door.closeAllConnections();
    await stopped;
  }
}

function rawRequest(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(bytes));
    let got = '';
    s.on('data', (c) => (got += c.toString('latin1')));
    s.on('end', () => resolve(got));
    s.on('close', () => resolve(got));
    s.on('error', reject);
  });
}

test('request handlers are asked in order; the first that answers wins; "first" mounts in front', async () => {
  const seen: string[] = [];
  await withDoor(
    (door) => {
      door.handle((req, res) => {
        seen.push('a');
        if (req.url !== '/a') return false;
        sendJson(res, 200, { by: 'a' });
        return true;
      });
      door.handle((_req, res) => {
        seen.push('b');
        sendJson(res, 200, { by: 'b' });
        return true;
      });
      door.handle((req, res) => {
        seen.push('inspector');
        if (!req.url?.startsWith('/_vcr/')) return false;
        sendJson(res, 200, { by: 'inspector' });
        return true;
      }, 'first');
    },
    async (url) => {
      assert.deepEqual(await (await fetch(`${url}/a`)).json(), { by: 'a' });
      assert.deepEqual(seen, ['inspector', 'a']);
      seen.length = 0;
      assert.deepEqual(await (await fetch(`${url}/other`)).json(), { by: 'b' });
      assert.deepEqual(seen, ['inspector', 'a', 'b']);
      assert.deepEqual(await (await fetch(`${url}/_vcr/x`)).json(), { by: 'inspector' });
    },
  );
});

test('a request no handler takes gets a Direct Line-shaped 404', async () => {
  await withDoor(
    (door) => door.handle(() => false),
    async (url) => {
      const res = await fetch(`${url}/nowhere`);
      assert.equal(res.status, 404);
      assert.deepEqual(await res.json(), { error: { code: 'NotFound', message: 'nothing is served at /nowhere' } });
    },
  );
});

test('an upgrade no handler takes is refused with 404 and an error body; a taken one is not', async () => {
  await withDoor(
    (door) =>
      door.handleUpgrade((req, socket) => {
        if (req.url !== '/mine') return false;
        socket.end("HTTP/1.1 418 I'm a teapot\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return true;
      }),
    async (url) => {
      const ws = (path: string) =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
          const c = new WebSocket(url.replace('http', 'ws') + path);
          c.on('unexpected-response', (_req, res) => {
            let body = '';
            res.on('data', (d: Buffer) => (body += d));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          });
          c.on('open', () => reject(new Error('opened')));
          c.on('error', () => undefined);
        });
      const refused = await ws('/elsewhere');
      assert.equal(refused.status, 404);
      assert.deepEqual(JSON.parse(refused.body), { error: { code: 'NotFound', message: 'no WebSocket is served at /elsewhere' } });
      assert.equal((await ws('/mine')).status, 418);
    },
  );
});

test('a request Node cannot parse gets 400 Bad Request and the connection closes', async () => {
  await withDoor(
    () => undefined,
    async (_url, door) => {
      const answer = await rawRequest(door.listening.port, 'THIS IS NOT HTTP\r\n\r\n');
      assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n/);
      assert.match(answer, /Connection: close/i);
    },
  );
});

test('the printed URL: 127.0.0.1 for every interface, brackets for IPv6, https with TLS', () => {
  assert.equal(listeningUrl(false, '0.0.0.0', 4978), 'http://127.0.0.1:4978');
  assert.equal(listeningUrl(false, '::', 4978), 'http://127.0.0.1:4978');
  assert.equal(listeningUrl(true, '127.0.0.1', 8443), 'https://127.0.0.1:8443');
  assert.equal(listeningUrl(false, '::1', 1), 'http://[::1]:1');
  assert.equal(listeningUrl(false, 'localhost', 2), 'http://localhost:2');
  assert.equal(hostForUrl('[::1]'), '[::1]');
  assert.equal(isWildcardHost('0.0.0.0'), true);
  assert.equal(isWildcardHost('127.0.0.1'), false);
});

test('listen() reports the bound port and URL; a busy port rejects', async () => {
  await withDoor(
    () => undefined,
    async (url, door) => {
      assert.equal(url, `http://127.0.0.1:${door.listening.port}`);
      assert.equal(door.listening.wildcard, false);
      const second = new FrontDoor({ logger: silentLogger() });
      await assert.rejects(second.listen(door.listening.port, '127.0.0.1'), /EADDRINUSE/);
    },
  );
});
