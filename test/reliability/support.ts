// Plumbing of the reliability suite: sizes from the environment, temp folders, the recorder CLI as a child
// process (honest RSS and file descriptors), a TCP tap between the recorder and its upstream (counts, kills and
// revives upstream connections), a canary listener that must never be contacted, raw-socket HTTP/WebSocket
// helpers and a small stream client that timestamps every frame.
//
// Everything listens on 127.0.0.1 with port 0; every wait is bounded in time.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readlink, readFile, rm } from 'node:fs/promises';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A positive number from the environment, or the default. */
export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a number ≥ 0, got ${JSON.stringify(raw)}`);
  return n;
}

/** Polls `check` every `everyMs` until it returns something truthy, for at most `timeoutMs`. */
export async function eventually<T>(check: () => T | undefined | null | false | Promise<T | undefined | null | false>, what: string | (() => string), timeoutMs = 5000, everyMs = 10): Promise<T> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (performance.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await sleep(everyMs);
  }
}

export async function tempDir(prefix = 'dlvcr-rel-'): Promise<{ dir: string; file: (name: string) => string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, file: (name) => join(dir, name), cleanup: () => rm(dir, { recursive: true, force: true }) };
}

// ---------- HTTP with fetch ----------

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export async function call(base: string, method: string, path: string, opts: { bearer?: string; body?: unknown; raw?: string | Uint8Array; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.bearer) headers.authorization = `Bearer ${opts.bearer}`;
  let body: string | Uint8Array | undefined = opts.raw;
  if (opts.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(opts.body);
  }
  const res = await fetch(base + path, { method, headers, body: body as BodyInit | undefined, signal: AbortSignal.timeout(opts.timeoutMs ?? 20_000) });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

// ---------- a stream client ----------

export interface Frame { at: number; text: string }

/** A ws client keeping every frame (keep-alives included) with its arrival time, and the close it saw. */
export class Stream {
  readonly frames: Frame[] = [];
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string; at: number }>;
  private readonly waiters = new Set<() => void>();

  constructor(url: string, opts: WebSocket.ClientOptions = {}) {
    this.ws = new WebSocket(url, opts);
    this.ws.on('error', () => {}); // outcomes are read from 'close' / 'unexpected-response'
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => reject(Object.assign(new Error(`upgrade refused with ${res.statusCode}: ${body}`), { status: res.statusCode, body })));
        res.on('error', () => reject(new Error(`upgrade refused with ${res.statusCode}`)));
      });
      this.ws.once('close', () => reject(new Error('closed before it opened')));
    });
    this.opened.catch(() => {});
    this.closed = new Promise((resolve) => this.ws.once('close', (code, reason) => {
      resolve({ code, reason: reason.toString(), at: performance.now() });
      this.notify();
    }));
    this.ws.on('message', (data) => {
      this.frames.push({ at: performance.now(), text: data.toString() });
      this.notify();
    });
  }

  static async open(url: string, opts: WebSocket.ClientOptions = {}): Promise<Stream> {
    const s = new Stream(url, opts);
    await s.opened;
    return s;
  }

  activities(): any[] {
    const out: any[] = [];
    for (const f of this.frames) if (f.text.trim() !== '') out.push(...(JSON.parse(f.text).activities ?? []));
    return out;
  }

  private readonly counted = new Map<string, { upTo: number; n: number }>();

  /** Frames containing `text` (incremental: each frame is scanned once per needle). */
  count(text: string): number {
    let c = this.counted.get(text);
    if (!c) {
      c = { upTo: 0, n: 0 };
      this.counted.set(text, c);
    }
    for (; c.upTo < this.frames.length; c.upTo++) if (this.frames[c.upTo]!.text.includes(text)) c.n++;
    return c.n;
  }

  waitFor(pred: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!pred()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${this.frames.length} frames, last ${JSON.stringify(this.frames.at(-1)?.text.slice(0, 200))}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** Closes (terminating after 1 s) and waits for the close. */
  async close(code = 1000): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(code);
    else if (this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
    const timer = setTimeout(() => this.ws.terminate(), 1000);
    await this.closed;
    clearTimeout(timer);
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }
}

// ---------- the recorder CLI as a child process ----------

export interface RecorderProcess {
  child: ChildProcess;
  pid: number;
  domain: string;
  port: number;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Stops sampling and returns the peak RSS (bytes) seen, with the number of samples. */
  rss: { peak: number; samples: number; last: number };
  stopSampling: () => void;
  /** SIGKILLs it if it still runs. */
  kill: () => Promise<void>;
}

/** Resident set size of a process from /proc (bytes), or 0 when it is gone. */
export async function rssOf(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat; 0 when it is gone. */
export async function cpuSecondsOf(pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return 0;
  }
}

/** Open file descriptors of a process by kind (what lsof would show), from /proc/<pid>/fd. */
export async function fdsOf(pid: number): Promise<{ total: number; sockets: number }> {
  const dir = `/proc/${pid}/fd`;
  const names = await readdir(dir);
  let sockets = 0;
  await Promise.all(names.map(async (n) => {
    try {
      if ((await readlink(`${dir}/${n}`)).startsWith('socket:')) sockets++;
    } catch { /* closed meanwhile */ }
  }));
  return { total: names.length, sockets };
}

/** Spawns `src/cli/main.ts record …` and resolves once it printed its `domain = …` line. */
export async function spawnRecorder(args: string[], opts: { sampleEveryMs?: number } = {}): Promise<RecorderProcess> {
  // DLVCR_RECORDER_NODE_ARGS: extra node flags for the recorder child (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof).
  const nodeArgs = (process.env.DLVCR_RECORDER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'src/cli/main.ts', 'record', '--port', '0', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    if (err.length < 200_000) err += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const domain = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no domain line within 20 s; stdout ${JSON.stringify(out)}, stderr ${JSON.stringify(err)}`)), 20_000);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /domain = (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the recorder exited (${code ?? signal}) before printing its domain; stderr ${err}`));
    });
  });
  const pid = child.pid!;
  const rss = { peak: 0, samples: 0, last: 0 };
  let sampling = true;
  const sample = async () => {
    const v = await rssOf(pid);
    if (!sampling || v === 0) return;
    rss.last = v;
    rss.samples++;
    if (v > rss.peak) rss.peak = v;
  };
  await sample();
  const timer = setInterval(() => void sample(), opts.sampleEveryMs ?? 200);
  timer.unref();
  void exited.then(() => {
    sampling = false;
    clearInterval(timer);
  });
  return {
    child,
    pid,
    domain,
    port: Number(new URL(domain).port),
    stderr: () => err,
    exited,
    rss,
    stopSampling: () => {
      sampling = false;
      clearInterval(timer);
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

// ---------- the emulator as a child process ----------

export interface EmulatorProcess {
  pid: number;
  domain: string;
  secret: string;
  close(): Promise<void>;
}

export async function spawnEmulator(options: Record<string, unknown> = {}): Promise<EmulatorProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/reliability/emulator-process.ts', JSON.stringify(options)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    if (err.length < 100_000) err += d;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const [domain, secret] = await new Promise<[string, string]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the emulator printed nothing within 20 s; stderr ${err}`)), 20_000);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /emulator (\S+) secret (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve([m[1]!, m[2]!]);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`the emulator exited early; stderr ${err}`));
    });
  });
  return {
    pid: child.pid!,
    domain,
    secret,
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// ---------- a TCP tap in front of the upstream ----------

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
    const conn: TapConnection = { id: this.nextId++, down, up, firstLine: '', closed: new Promise((r) => (resolveClosed = r)), isClosed: false };
    this.connections.add(conn);
    this.history.push(conn);
    let head = '';
    let answered = false;
    down.on('data', (d: Buffer) => {
      if (!conn.firstLine) {
        head += d.toString('latin1', 0, Math.min(d.length, 4096));
        const eol = head.indexOf('\r\n');
        if (eol >= 0) conn.firstLine = head.slice(0, eol);
      } else if (this.closeOnReuse && answered && !conn.firstLine.includes('/stream') && /^[A-Z]+ \S+ HTTP\/1\.1\r\n/.test(d.toString('latin1', 0, 200))) {
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

// ---------- a canary: nothing may ever reach it ----------

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
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

// ---------- raw sockets ----------

export interface RawResult {
  /** Everything the server sent before closing (or before the time limit). */
  text: string;
  status: number | null;
  /** Whether the server closed the connection (rather than the time limit ending it). */
  closedByServer: boolean;
}

/**
 * Writes `chunks` to a fresh TCP connection (pausing `gapMs` between them) and collects the answer until the
 * server closes, a complete response arrived (when `untilResponse`), or `timeoutMs` passed.
 */
export function rawExchange(port: number, chunks: Array<string | Buffer>, opts: { timeoutMs?: number; gapMs?: number; untilResponse?: boolean; endAfterWrite?: boolean } = {}): Promise<RawResult> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    const parts: Buffer[] = [];
    let settled = false;
    const finish = (closedByServer: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.destroy();
      const text = Buffer.concat(parts).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ text, status: m ? Number(m[1]) : null, closedByServer });
    };
    const timer = setTimeout(() => finish(false), opts.timeoutMs ?? 3000);
    s.on('data', (d: Buffer) => {
      parts.push(d);
      if (opts.untilResponse && completeResponse(Buffer.concat(parts).toString('latin1'))) finish(false);
    });
    s.on('end', () => finish(true));
    s.on('close', () => finish(true));
    s.on('error', () => finish(true));
    s.on('connect', async () => {
      for (let i = 0; i < chunks.length; i++) {
        if (i > 0 && opts.gapMs) await sleep(opts.gapMs);
        if (s.destroyed) return;
        s.write(chunks[i]!);
      }
      if (opts.endAfterWrite) s.end();
    });
  });
}

function completeResponse(text: string): boolean {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const m = /\r\ncontent-length:\s*(\d+)/i.exec(text.slice(0, end));
  return m ? text.length - end - 4 >= Number(m[1]) : false;
}

/** Sends a half request (headers, or headers and part of the body) and drops the connection. */
export function sendHalfAndVanish(port: number, data: string, afterMs = 50): Promise<void> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => {
      s.write(data);
      setTimeout(() => {
        s.resetAndDestroy();
        resolve();
      }, afterMs);
    });
    s.on('error', () => resolve());
  });
}

/** A WebSocket opened by hand over a raw socket, so a test can write bytes no client library would. */
export interface RawWs {
  socket: Socket;
  /** Bytes received after the 101 response. */
  received: () => Buffer;
  closed: Promise<void>;
  /** The close code of the first close frame the server sent, if any. */
  closeCode: () => number | null;
}

export function rawWebSocket(port: number, pathAndQuery: string, host = `127.0.0.1:${port}`, timeoutMs = 5000): Promise<RawWs> {
  return new Promise((resolve, reject) => {
    const key = randomBytes(16).toString('base64');
    const s = connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    let upgraded = false;
    let resolveClosed!: () => void;
    const closed = new Promise<void>((r) => (resolveClosed = r));
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no 101 within ${timeoutMs} ms; got ${JSON.stringify(buf.toString('latin1').slice(0, 300))}`));
    }, timeoutMs);
    s.on('error', () => {});
    s.on('close', () => {
      resolveClosed();
      if (!upgraded) {
        clearTimeout(timer);
        reject(new Error(`closed before 101; got ${JSON.stringify(buf.toString('latin1').slice(0, 300))}`));
      }
    });
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (upgraded) return;
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.subarray(0, end).toString('latin1');
      if (!/^HTTP\/1\.1 101/.test(head)) {
        clearTimeout(timer);
        s.destroy();
        reject(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
        return;
      }
      const accept = createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
      if (!head.toLowerCase().includes(`sec-websocket-accept: ${accept.toLowerCase()}`)) {
        clearTimeout(timer);
        s.destroy();
        reject(new Error('bad Sec-WebSocket-Accept'));
        return;
      }
      upgraded = true;
      clearTimeout(timer);
      buf = buf.subarray(end + 4);
      resolve({
        socket: s,
        received: () => buf,
        closed,
        closeCode: () => firstCloseCode(buf),
      });
    });
    s.on('connect', () => {
      s.write(`GET ${pathAndQuery} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    });
  });
}

/** Parses server→client frames (unmasked) and returns the code of the first close frame. */
function firstCloseCode(buf: Buffer): number | null {
  let i = 0;
  while (i + 2 <= buf.length) {
    const opcode = buf[i]! & 0x0f;
    let len = buf[i + 1]! & 0x7f;
    let off = i + 2;
    if (len === 126) {
      if (off + 2 > buf.length) return null;
      len = buf.readUInt16BE(off);
      off += 2;
    } else if (len === 127) {
      if (off + 8 > buf.length) return null;
      len = Number(buf.readBigUInt64BE(off));
      off += 8;
    }
    if (opcode === 0x8) return len >= 2 && off + 2 <= buf.length ? buf.readUInt16BE(off) : 1005;
    i = off + len;
  }
  return null;
}

/** A client frame: FIN + opcode, masked unless told otherwise, with a declared length that may lie. */
export function clientFrame(opcode: number, payload: Buffer, opts: { masked?: boolean; declaredLength?: number; fin?: boolean; rsv?: number } = {}): Buffer {
  const masked = opts.masked ?? true;
  const len = opts.declaredLength ?? payload.length;
  const head: number[] = [((opts.fin ?? true) ? 0x80 : 0) | ((opts.rsv ?? 0) << 4) | (opcode & 0x0f)];
  let ext: Buffer = Buffer.alloc(0);
  if (len < 126) head.push((masked ? 0x80 : 0) | len);
  else if (len < 65536) {
    head.push((masked ? 0x80 : 0) | 126);
    ext = Buffer.alloc(2);
    ext.writeUInt16BE(len);
  } else {
    head.push((masked ? 0x80 : 0) | 127);
    ext = Buffer.alloc(8);
    ext.writeBigUInt64BE(BigInt(len));
  }
  if (!masked) return Buffer.concat([Buffer.from(head), ext, payload]);
  const mask = randomBytes(4);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] = body[i]! ^ mask[i % 4]!;
  return Buffer.concat([Buffer.from(head), ext, mask, body]);
}

/** Active libuv handles of this process (sockets, servers, timers, child pipes). */
export function activeHandles(): number {
  return (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;
}
