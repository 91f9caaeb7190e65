// The up-front handshake check and the upgrade refusal both servers use, on a real HTTP server: malformed
// upgrades are named, well-formed ones pass (a real ws client's included), and a refusal is a complete
// HTTP response that a WebSocket client reads as such, after which the connection is closed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { websocketHandshakeProblem, writeUpgradeRefusal } from '../../src/net/websocket-handshake.js';
import { within } from '../support/async.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

interface Seen {
  problem: string | null;
  req: IncomingMessage;
}

/** An HTTP server whose upgrades are checked and always refused: 400 with the problem, or 403 when well-formed. */
async function refusingServer(): Promise<{ server: Server; port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', (req, socket) => {
    const problem = websocketHandshakeProblem(req);
    seen.push({ problem, req });
    if (problem) writeUpgradeRefusal(socket, 400, { 'content-type': 'text/plain; charset=utf-8' }, Buffer.from(problem));
    else
      writeUpgradeRefusal(
        socket,
        403,
        { 'content-type': 'application/json' },
        Buffer.from('{"error":{"code":"BadArgument"}}'),
        'Stream Refused',
      );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, seen };
}

/** Writes a raw request and reads until the server closes the connection. */
function raw(port: number, request: string): Promise<{ text: string; closedByServer: boolean }> {
  return within(
    new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1');
      let text = '';
      s.setEncoding('latin1');
      s.on('data', (d: string) => (text += d));
      s.on('end', () => resolve({ text, closedByServer: true }));
      s.on('error', reject);
      s.write(request);
    }),
    'the server to answer and close',
  );
}

function upgradeRequest(port: number, headers: Record<string, string>, method = 'GET'): string {
  const all: Record<string, string> = { Host: `127.0.0.1:${port}`, Connection: 'Upgrade', ...headers };
  return `${method} /v3/directline/conversations/c/stream?t=x HTTP/1.1\r\n${Object.entries(all)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;
}

test('malformed upgrades are refused with a 400 naming what is wrong, then the connection closes', async (t) => {
  const { server, port, seen } = await refusingServer();
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const good = { Upgrade: 'websocket', 'Sec-WebSocket-Key': KEY, 'Sec-WebSocket-Version': '13' };
  const cases: Array<[what: string, request: string, problem: RegExp]> = [
    ['a POST', upgradeRequest(port, good, 'POST'), /must be a GET, not POST/],
    ['another protocol', upgradeRequest(port, { ...good, Upgrade: 'h2c' }), /Upgrade: "h2c" is not a WebSocket handshake/],
    ['no key', upgradeRequest(port, { Upgrade: 'websocket', 'Sec-WebSocket-Version': '13' }), /missing or invalid Sec-WebSocket-Key/],
    ['a short key', upgradeRequest(port, { ...good, 'Sec-WebSocket-Key': 'c2hvcnQ=' }), /missing or invalid Sec-WebSocket-Key/],
    [
      'a key with bad characters',
      upgradeRequest(port, { ...good, 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25j*Q==' }),
      /invalid Sec-WebSocket-Key/,
    ],
    [
      'no version',
      upgradeRequest(port, { Upgrade: 'websocket', 'Sec-WebSocket-Key': KEY }),
      /unsupported Sec-WebSocket-Version "" \(13 is served\)/,
    ],
    ['version 12', upgradeRequest(port, { ...good, 'Sec-WebSocket-Version': '12' }), /unsupported Sec-WebSocket-Version "12"/],
  ];
  for (const [what, request, problem] of cases) {
    const { text, closedByServer } = await raw(port, request);
    const [head, body] = text.split('\r\n\r\n');
    assert.match(head!, /^HTTP\/1\.1 400 Bad Request\r\n/, what);
    assert.match(body!, problem, what);
    assert.match(head!, new RegExp(`\r\ncontent-length: ${Buffer.byteLength(body!)}(\r\n|$)`), `${what}: the length is that of the body`);
    assert.match(head!, /\r\nconnection: close(\r\n|$)/, what);
    assert.ok(closedByServer, `${what}: the server closed the connection`);
  }
  assert.equal(seen.length, cases.length);
  assert.ok(seen.every((s) => s.problem !== null));
});

test('well-formed handshakes pass: any case of "websocket", version 8 or 13, and a real ws client', async (t) => {
  const { server, port, seen } = await refusingServer();
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  for (const headers of [
    { Upgrade: 'WebSocket', 'Sec-WebSocket-Key': KEY, 'Sec-WebSocket-Version': '13' },
    { Upgrade: ' websocket ', 'Sec-WebSocket-Key': ` ${KEY}`, 'Sec-WebSocket-Version': '8' },
  ]) {
    const { text } = await raw(port, upgradeRequest(port, headers));
    assert.match(text, /^HTTP\/1\.1 403 Stream Refused\r\n/);
  }
  assert.deepEqual(
    seen.map((s) => s.problem),
    [null, null],
  );

  // A real client: its handshake passes the check, and it reads the refusal as an HTTP response.
  const ws = new WebSocket(`ws://127.0.0.1:${port}/v3/directline/conversations/c/stream?t=x`);
  const refused = await within(
    new Promise<{ status: number; message: string; type: string; body: string }>((resolve, reject) => {
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () =>
          resolve({ status: res.statusCode!, message: res.statusMessage!, type: String(res.headers['content-type']), body }),
        );
      });
      ws.once('open', () => reject(new Error('the upgrade was accepted')));
      ws.once('error', () => {});
    }),
    'the ws client to see the refusal',
  );
  assert.equal(seen.at(-1)!.problem, null, 'the ws client sends a well-formed handshake');
  assert.deepEqual(refused, { status: 403, message: 'Stream Refused', type: 'application/json', body: '{"error":{"code":"BadArgument"}}' });
});

test('the status text defaults to the standard reason phrase, and an already destroyed socket is left alone', async (t) => {
  const server = createServer();
  server.on('upgrade', (req, socket) => {
    if (req.url === '/gone') {
      socket.destroy();
      writeUpgradeRefusal(socket, 500, {}, Buffer.from('never sent')); // must not throw
      return;
    }
    writeUpgradeRefusal(socket, 429, { 'retry-after': '3' }, Buffer.alloc(0));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as AddressInfo).port;
  const { text } = await raw(port, upgradeRequest(port, { Upgrade: 'websocket' }));
  assert.match(text, /^HTTP\/1\.1 429 Too Many Requests\r\n/);
  assert.match(text, /\r\nretry-after: 3\r\n/);
  assert.match(text, /\r\ncontent-length: 0\r\n/);
  assert.ok(text.endsWith('\r\n\r\n'), 'an empty body');
  const gone = await raw(
    port,
    upgradeRequest(port, { Upgrade: 'websocket' }).replace('/v3/directline/conversations/c/stream?t=x', '/gone'),
  );
  assert.equal(gone.text, '');
});
