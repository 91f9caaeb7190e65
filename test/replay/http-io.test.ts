// Reading request targets and writing replies: RequestTarget gives what `new URL` gives, and a reply written
// from shared (frozen) header objects has the header lines of one written from fresh ones.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { CorsPolicy } from '../../src/net/cors.js';
import { corsHeaders, jsonReply, RequestTarget, sharedHeaders, writeReply } from '../../src/replay/http-io.js';

const TARGETS = [
  '/v3/directline/conversations/abc-us_1/activities',
  '/v3/directline/conversations/abc/activities?watermark=3&x=%20y',
  '/v3/directline/conversations/abc/stream?watermark=-&t=eyJ.a-b_c.d',
  '/a/./b',
  '/a/../b',
  '/a/%2e%2E/b',
  '/a/..',
  '/.',
  '//elsewhere/x',
  '/a b',
  '/a?b c',
  '/a#fragment',
  '/a?x=1#f',
  '/é',
  '/a\\b',
  '/a?',
  '/?',
  '/',
  '/a/.well-known/x',
  "/a'b?c'd",
  '/a/%zz',
  '/a?w=a+b&w=2',
  '/a?q=/../x',
  '/a%2F..%2Fb',
  '/a{b}?c<d>',
  '*',
];

describe('RequestTarget', () => {
  it('gives the path and query new URL(target, base) gives', () => {
    for (const raw of TARGETS) {
      const url = new URL(raw, 'http://replay.invalid');
      const t = RequestTarget.of(raw);
      assert.equal(t.pathname, url.pathname, raw);
      assert.equal(t.query.toString(), url.searchParams.toString(), raw);
      assert.equal(t.get('w'), url.searchParams.get('w'), raw);
      assert.equal(t.get('watermark'), url.searchParams.get('watermark'), raw);
    }
    assert.equal(RequestTarget.of(undefined).pathname, '/');
  });
});

/** Raw header lines (Date left out) of the answer a server gives with `answer`. */
async function headerLines(
  answer: (req: IncomingMessage, res: ServerResponse) => void,
  headers: Record<string, string> = {},
): Promise<string[]> {
  const server = createServer(answer);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as AddressInfo).port;
    const raw = await new Promise<string>((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => {
        const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
        s.end(`GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${extra.join('')}\r\n`);
      });
      let out = '';
      s.on('data', (d) => (out += d));
      s.on('error', reject);
      s.on('close', () => resolve(out));
    });
    return raw
      .split('\r\n\r\n')[0]
      .split('\r\n')
      .filter((l) => !l.startsWith('Date:'));
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe('writeReply', () => {
  it('writes the same header lines from shared header objects as from fresh ones', async () => {
    const recorded = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache', 'x-ms-request-id': 'r1' };
    const body = { id: 'conv|0000001', text: 'héllo' };
    const policy = new CorsPolicy();
    const fresh = await headerLines((req, res) =>
      writeReply(res, { ...jsonReply(200, body), headers: { ...recorded } }, { ...policy.headers(req) }),
    );
    const shared = sharedHeaders({ ...recorded });
    for (let i = 0; i < 2; i++) {
      // Twice: the second reply uses the merged list made for the first.
      const lines = await headerLines((req, res) =>
        writeReply(res, { ...jsonReply(200, body), headers: shared }, corsHeaders(req, policy)),
      );
      assert.deepEqual(lines, fresh);
    }
    assert.ok(fresh.includes('access-control-allow-origin: *'), fresh.join('\n'));
    assert.ok(fresh.includes(`content-length: ${Buffer.byteLength(JSON.stringify(body))}`), fresh.join('\n'));
  });

  it('shares the CORS headers of requests without an Origin, and makes them per request with one', async () => {
    const policy = new CorsPolicy();
    const seen: Array<Record<string, string>> = [];
    const answer = (req: IncomingMessage, res: ServerResponse) => {
      const cors = corsHeaders(req, policy);
      seen.push(cors);
      writeReply(res, jsonReply(200, {}), cors);
    };
    await headerLines(answer);
    await headerLines(answer);
    const withOrigin = await headerLines(answer, { Origin: 'http://page.test' });
    assert.equal(seen[0], seen[1], 'one object for Origin-less requests');
    assert.ok(Object.isFrozen(seen[0]));
    assert.equal(seen[2]['access-control-allow-origin'], 'http://page.test');
    assert.ok(withOrigin.includes('access-control-allow-credentials: true'), withOrigin.join('\n'));
  });
});
