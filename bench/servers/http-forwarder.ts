// The limit the recorder is compared with: a plain http-proxy forwarder with the same keep-alive agent
// settings as the recorder's (src/record/http-exchange.ts) and nothing else.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import httpProxy from 'http-proxy';
import { childArgs, serveParent } from '../lib/child.js';

const { upstream } = childArgs<{ upstream: string }>();
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const proxy = httpProxy.createProxyServer({ target: upstream, changeOrigin: true, agent });
proxy.on('error', (_err, _req, res) => {
  const r = res as http.ServerResponse;
  if (!r.headersSent) r.writeHead(502);
  r.end();
});
const server = http.createServer((req, res) => proxy.web(req, res));
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  serveParent({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }, {});
});
