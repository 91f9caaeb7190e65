// The limit the recorder's stream relay is compared with: a plain ws relay. Like the recorder it opens
// the upstream first, accepts the client then, and pauses the sender when the receiver is 1 MiB behind.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer, type RawData } from 'ws';
import { childArgs, measuredMemory, serveParent } from '../lib/child.js';

const { upstream } = childArgs<{ upstream: string }>(); // ws://host:port
const HIGH_WATER = 1 << 20;
const wss = new WebSocketServer({ noServer: true });
const pipe = (from: WebSocket, to: WebSocket) =>
  from.on('message', (data: RawData, isBinary: boolean) => {
    if (to.readyState !== WebSocket.OPEN) return;
    to.send(data as Buffer, { binary: isBinary }, () => {
      if (from.isPaused && to.bufferedAmount < HIGH_WATER / 2) from.resume();
    });
    if (to.bufferedAmount > HIGH_WATER) from.pause();
  });
const server = http.createServer((_req, res) => res.writeHead(404).end());
server.on('upgrade', (req, socket, head) => {
  const up = new WebSocket(upstream + req.url);
  up.on('error', () => socket.destroy());
  up.on('open', () =>
    wss.handleUpgrade(req, socket, head, (client) => {
      pipe(up, client);
      pipe(client, up);
      client.on('close', () => up.close());
      up.on('close', () => client.close());
    }),
  );
});
server.listen(0, '127.0.0.1', () => {
  serveParent({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, pid: process.pid }, { memory: () => measuredMemory() });
});
