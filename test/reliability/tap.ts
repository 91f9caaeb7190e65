// A TCP tap between the recorder and its upstream: counts, kills and revives upstream connections.
// Listens on 127.0.0.1 with port 0.
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export interface TapConnection {
  id: number;
  /** The recorder's side (the tap is its upstream). */
  down: Socket;
  /** Toward the real upstream. */
  up: Socket;
  /** First line the recorder sent on it (request line), once known. */
  firstLine: string;
  closed: Promise<void>;
  isClosed: boolean;
}

/**
 * A byte-for-byte TCP relay listening on 127.0.0.1: what the recorder sees as its upstream. It counts live
 * connections, can cut chosen ones (the upstream dying under one stream), and can stop listening and start
 * again on the same port (the upstream process going away and coming back).
 */
export class Tap {
  private server: Server | null = null;
  private nextId = 0;
  readonly connections = new Set<TapConnection>();
  /** Every connection ever accepted. */
  readonly history: TapConnection[] = [];
  port = 0;
  /**
   * When set, a second HTTP request on a kept-alive connection is not forwarded: the tap closes the connection
   * instead, as a server does when its idle timeout fires just as the request arrives.
   */
  closeOnReuse = false;
  /** Requests the tap refused that way. */
  refusedReuses = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  /** Where the recorder should send requests: the tap's origin. */
  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get open(): number {
    return this.connections.size;
  }

  async listen(port = 0): Promise<void> {
    const server = createServer((down) => this.accept(down));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  /** Cuts every connection matching `pred` (both sides, without a WebSocket close frame); returns how many. */
  cut(pred: (c: TapConnection) => boolean, how: 'reset' | 'end' = 'reset'): number {
    let n = 0;
    for (const c of [...this.connections]) {
      if (!pred(c)) continue;
      n++;
      if (how === 'reset') {
        c.down.resetAndDestroy();
        c.up.destroy();
      } else {
        c.down.destroy();
        c.up.destroy();
      }
    }
    return n;
  }

  /** The upstream goes away: no listener, every connection cut. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.cut(() => true);
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(down: Socket): void {
    const up = connect(this.target.port, this.target.host);
    let resolveClosed!: () => void;
    const conn: TapConnection = {
      id: this.nextId++,
      down,
      up,
      firstLine: '',
      closed: new Promise((r) => (resolveClosed = r)),
      isClosed: false,
    };
    this.connections.add(conn);
    this.history.push(conn);
    let head = '';
    let answered = false;
    down.on('data', (d: Buffer) => {
      if (!conn.firstLine) {
        head += d.toString('latin1', 0, Math.min(d.length, 4096));
        const eol = head.indexOf('\r\n');
        if (eol >= 0) conn.firstLine = head.slice(0, eol);
      } else if (
        this.closeOnReuse &&
        answered &&
        !conn.firstLine.includes('/stream') &&
        /^[A-Z]+ \S+ HTTP\/1\.1\r\n/.test(d.toString('latin1', 0, 200))
      ) {
        this.refusedReuses++;
        down.destroy();
        up.destroy();
        return;
      }
      if (!down.destroyed) up.write(d);
    });
    // The upstream names itself in streamUrls; on HTTP connections the tap puts its own address there, so the
    // streams come through the tap too (both are 127.0.0.1:<5 digits>, so lengths and Content-Length hold).
    const from = Buffer.from(`127.0.0.1:${this.target.port}`);
    const to = Buffer.from(`127.0.0.1:${this.port}`);
    const rewrite = from.length === to.length && !from.equals(to);
    let held = Buffer.alloc(0);
    up.on('data', (d: Buffer) => {
      answered = true;
      if (!rewrite || conn.firstLine.includes('/stream')) {
        if (held.length) {
          down.write(held);
          held = Buffer.alloc(0);
        }
        down.write(d);
        return;
      }
      let buf = held.length ? Buffer.concat([held, d]) : d;
      for (let at = buf.indexOf(from); at >= 0; at = buf.indexOf(from, at + to.length)) to.copy(buf, at);
      // Hold back a tail that could be the start of `from` split across chunks.
      let keep = 0;
      for (let k = Math.min(from.length - 1, buf.length); k > 0; k--) {
        if (buf.subarray(buf.length - k).equals(from.subarray(0, k))) {
          keep = k;
          break;
        }
      }
      held = keep ? Buffer.from(buf.subarray(buf.length - keep)) : Buffer.alloc(0);
      buf = keep ? buf.subarray(0, buf.length - keep) : buf;
      if (buf.length) down.write(buf);
    });
    up.on('end', () => {
      if (held.length) down.write(held);
      down.end();
    });
    down.on('end', () => up.end());
    const done = () => {
      if (conn.isClosed) return;
      conn.isClosed = true;
      this.connections.delete(conn);
      down.destroy();
      up.destroy();
      resolveClosed();
    };
    down.on('close', done);
    up.on('close', done);
    down.on('error', () => {});
    up.on('error', () => {});
  }
}
