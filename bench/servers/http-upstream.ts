// Benchmark upstream: a bare node:http server that answers every request the way Direct Line answers
// POST /activities ({"id": …}), after reading the whole body. Also used as the "plain server answering
// a constant" of the replay benchmark.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveParent } from '../lib/child.js';

let n = 0;
const server = http.createServer((req, res) => {
  let _bytes = 0;
  req.on('data', (c: Buffer) => {
    _bytes += c.length;
  });
  req.on('end', () => {
    const body = `{"id":"bench-conversation|${String(++n).padStart(7, '0')}"}`;
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-cache',
    });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  serveParent({ url }, { requests: () => n });
});
