// Benchmark stream upstream: a ws server that, once the client says "go", pushes `n` ActivitySet frames
// of `size` bytes, either as fast as backpressure allows (rate=0) or at `rate` frames/s. Without `n`
// it keeps the socket idle; the `greet` command then sends one frame to every open socket. With
// `gaps=a,b,c…` it sends one small frame at each of those gaps (ms) after the connection.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { serveParent } from '../lib/child.js';
import { activitySet, paddingFor, wallNow } from '../lib/frames.js';

const HIGH_WATER = 1 << 20;
const server = http.createServer((_req, res) => res.writeHead(404).end());
const wss = new WebSocketServer({ server }); // like the emulator: no permessage-deflate
const open = new Set<WebSocket>();
let sent = 0;

wss.on('connection', (ws, req) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const conversationId = /\/conversations\/([^/]+)\/stream/.exec(url.pathname)?.[1] ?? 'bench';
  const n = Number(url.searchParams.get('n') ?? 0);
  const size = Number(url.searchParams.get('size') ?? 1100);
  const rate = Number(url.searchParams.get('rate') ?? 0);
  const gaps = url.searchParams.get('gaps');
  const pad = paddingFor(conversationId, size);
  open.add(ws);
  ws.on('close', () => open.delete(ws));
  ws.on('error', () => undefined);
  if (gaps) {
    // The replay-timing baseline: frames at these gaps after the connection, each on its own setTimeout
    // aimed at connection time + its offset (what a scheduler can do at best on this machine).
    const start = performance.now();
    let offset = 0;
    gaps
      .split(',')
      .map(Number)
      .forEach((gap, k) => {
        offset += gap;
        const due = offset;
        setTimeout(
          () => {
            if (ws.readyState === WebSocket.OPEN) ws.send(activitySet(conversationId, k, wallNow(), 300, ''));
          },
          Math.max(0, start + due - performance.now()),
        );
      });
    return;
  }
  if (!n) return;
  let i = 0;
  const frame = () => {
    sent++;
    return activitySet(conversationId, ++i, wallNow(), size, pad);
  };
  const burst = () => {
    while (i < n && ws.readyState === WebSocket.OPEN) {
      if (ws.bufferedAmount > HIGH_WATER || i === n - 1) {
        ws.send(frame(), (err) => {
          if (!err) burst();
        });
        return;
      }
      ws.send(frame());
    }
  };
  const paced = () => {
    const start = performance.now();
    const tick = () => {
      const due = Math.min(n, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
      while (i < due && ws.readyState === WebSocket.OPEN) ws.send(frame());
      if (i < n && ws.readyState === WebSocket.OPEN) setTimeout(tick, 1);
    };
    tick();
  };
  ws.once('message', () => (rate > 0 ? paced() : burst()));
});

server.listen(0, '127.0.0.1', () => {
  serveParent(
    { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}` },
    {
      open: () => open.size,
      sent: () => sent,
      /** One frame of `size` bytes to every open socket (a welcome message before the conversation idles). */
      greet: ({ size }: { size: number }) => {
        let i = 0;
        const pad = paddingFor('idle-conversation', size);
        for (const ws of open) ws.send(activitySet('idle-conversation', ++i, wallNow(), size, pad));
        return i;
      },
      closeAll: () => {
        for (const ws of open) ws.close(1000, 'bench done');
        return open.size;
      },
    },
  );
});
