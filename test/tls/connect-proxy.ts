// A tiny outbound ("corporate") proxy for the tests: CONNECT tunnels (HTTPS and every WebSocket) and
// absolute-form HTTP requests (plain-http upstreams), to loopback targets only. It counts what went through it.
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';

export interface Tunnel {
  /** host:port asked for by CONNECT. */
  target: string;
  authorization?: string;
}

export interface TestProxy {
  url: string;
  tunnels: Tunnel[];
  /** Absolute-form requests forwarded (method + URL). */
  forwarded: string[];
  /** Answer every CONNECT with this status instead of opening the tunnel (e.g. 407), or null. */
  refuseWith: number | null;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export async function startConnectProxy(): Promise<TestProxy> {
  const sockets = new Set<Socket>();
  const state: Omit<TestProxy, 'url' | 'close'> = { tunnels: [], forwarded: [], refuseWith: null };
  const server: Server = createServer((req: IncomingMessage, res) => {
    // Absolute-form: GET http://host:port/path HTTP/1.1
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      res.writeHead(400).end('absolute-form only');
      return;
    }
    if (!LOOPBACK.has(target.hostname)) {
      res.writeHead(403).end('loopback targets only');
      return;
    }
    state.forwarded.push(`${req.method} ${target.href}`);
    const headers = { ...req.headers };
    delete headers['proxy-connection'];
    delete headers['proxy-authorization'];
    const up = request(
      { host: target.hostname, port: target.port, method: req.method, path: target.pathname + target.search, headers },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    const target = req.url ?? '';
    const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(target);
    state.tunnels.push({
      target,
      ...(req.headers['proxy-authorization'] ? { authorization: String(req.headers['proxy-authorization']) } : {}),
    });
    client.on('error', () => client.destroy());
    if (state.refuseWith !== null) {
      const body = 'tunnel refused by the test proxy';
      client.end(
        `HTTP/1.1 ${state.refuseWith} Refused\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: ` +
          `${body.length}\r\nConnection: close\r\n\r\n${body}`,
      );
      return;
    }
    if (!m || !LOOPBACK.has(m[1]!)) {
      client.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const up = connect(Number(m[2]), m[1]!.replace(/^\[|\]$/g, ''), () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) up.write(head);
      up.pipe(client);
      client.pipe(up);
    });
    sockets.add(up);
    up.on('close', () => {
      sockets.delete(up);
      client.destroy();
    });
    up.on('error', () => client.destroy());
    client.on('close', () => up.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const proxy: TestProxy = Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
  return proxy;
}
