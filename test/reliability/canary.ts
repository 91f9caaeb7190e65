// A canary listener that must never be contacted (the open-proxy tests). Listens on 127.0.0.1 with port 0.
import { createServer, type AddressInfo, type Socket } from 'node:net';

export interface Canary {
  port: number;
  origin: string;
  hits: string[];
  close(): Promise<void>;
}

/** A listener that notes every connection (and what was sent on it); the open-proxy tests assert it stays empty. */
export async function startCanary(): Promise<Canary> {
  const hits: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    hits.push('(connection)');
    s.on('data', (d: Buffer) => hits.push(d.toString('latin1', 0, Math.min(d.length, 200))));
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    s.end('HTTP/1.1 418 I am the canary\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
