// Shared plumbing of the recorder tests: temp cassettes, emulator + recorder pairs, raw HTTP/WS clients,
// a tiny WebSocket upstream for the cases the emulator cannot observe, and a log collector.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import { startEmulator, type Emulator, type EmulatorOptions } from '../emulator/index.js';
import { startRecorder, type Recorder, type RecordOptions } from '../../src/record/recorder.js';
import { loadCassette } from '../../src/cassette/load.js';
import type { Cassette, CassetteEvent, HttpEvent, WsMessageEvent } from '../../src/cassette/schema.js';
import { createLogger, type Logger } from '../../src/log.js';
import { eventually, within } from '../support/async.js';
import { tempDir } from '../support/fs.js';

export interface Rig {
  emu: Emulator;
  rec: Recorder;
  cassette: string;
  /** Flushes the recorder and loads its cassette (the recorder keeps running). */
  load(): Promise<Cassette>;
}

/**
 * Emulator + recorder in front of it, torn down in the right order whatever happens (recorder first, so
 * its relayed sockets close as 'proxy' while the upstream still runs; then the emulator; then the folder).
 */
export async function withRig(
  opts: { emulator?: EmulatorOptions; recorder?: Partial<RecordOptions> },
  fn: (rig: Rig) => Promise<void>,
): Promise<void> {
  const tmp = await tempDir('dlvcr-record-');
  const emu = await startEmulator(opts.emulator ?? {});
  let rec: Recorder | undefined;
  try {
    const cassette = tmp.file('cassette.json');
    rec = await startRecorder({ upstream: emu.domain, cassette, port: 0, ...opts.recorder });
    const r = rec;
    await fn({
      emu,
      rec: r,
      cassette,
      load: async () => {
        await r.flush();
        return loadCassette(cassette);
      },
    });
  } finally {
    await rec?.close();
    await emu.close();
    await tmp.cleanup();
  }
}

/** A raw ws client that keeps every frame as text (keep-alives included) and the close it saw. */
export class StreamClient {
  readonly frames: string[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly ws: WebSocket;
  onFrame: ((text: string) => void) | null = null;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data) => {
      const text = data.toString();
      this.frames.push(text);
      this.onFrame?.(text);
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static open(url: string, opts: WebSocket.ClientOptions = {}): Promise<StreamClient> {
    const ws = new WebSocket(url, { handshakeTimeout: 5000, ...opts });
    const client = new StreamClient(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
  }

  get activities(): any[] {
    return this.frames.filter((f) => f.trim() !== '').flatMap((f) => JSON.parse(f).activities);
  }

  waitFor(pred: (c: StreamClient) => boolean, what: string, timeoutMs = 4000): Promise<StreamClient> {
    return eventually(() => pred(this) && this, what, timeoutMs);
  }

  waitForText(text: string, timeoutMs = 4000): Promise<StreamClient> {
    return this.waitFor(
      (c) => c.activities.some((a) => a.text === text),
      `"${text}"; got ${JSON.stringify(this.activities.map((a) => a.text ?? a.type))}`,
      timeoutMs,
    );
  }

  /** The close this client saw, failing after `ms` if none comes. */
  closedWithin(ms = 4000): Promise<{ code: number; reason: string }> {
    return within(this.closed, 'the stream to close', ms);
  }

  /** Closes (terminates if need be) and waits for the close event. */
  async close(code?: number, reason?: string): Promise<{ code: number; reason: string }> {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(code, reason);
    else if (this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
    const timer = setTimeout(() => this.ws.terminate(), 1000);
    try {
      return await this.closed;
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * Tries a WebSocket upgrade with the ws client and reports how it was refused: the status and body
 * the 'unexpected-response' event carries. Resolves with status 101 when it opened instead.
 */
export function tryUpgrade(
  url: string,
  opts: WebSocket.ClientOptions = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { handshakeTimeout: 5000, ...opts });
    ws.once('error', (err) => reject(err)); // e.g. the handshake timeout; a no-op once settled
    ws.on('error', () => {}); // terminate() while connecting reports an error; we already know the outcome
    ws.once('open', () => {
      ws.terminate();
      resolve({ status: 101, headers: {}, body: '' });
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        ws.terminate();
        resolve({ status: res.statusCode ?? 0, headers: { ...res.headers }, body });
      });
      res.on('error', reject);
    });
  });
}

/** A tiny WebSocket-only upstream that records what reaches it (frames, closes) and lets a test drive it. */
export interface MiniUpstream {
  /** http://127.0.0.1:PORT/v3/directline */
  domain: string;
  sockets: MiniSocket[];
  upgrades: string[];
  /** Called for each new connection (after it is recorded). */
  onConnection: ((s: MiniSocket) => void) | null;
  close(): Promise<void>;
}

export interface MiniSocket {
  ws: WebSocket;
  received: Array<{ text: string; binary: boolean }>;
  closed: Promise<{ code: number; reason: string }>;
}

export async function startMiniUpstream(): Promise<MiniUpstream> {
  const wss = new WebSocketServer({ noServer: true });
  const server: Server = createServer((_req, res) => {
    res.writeHead(404, { 'content-type': 'application/json; charset=utf-8' });
    res.end('{"error":{"code":"NotFound","message":"mini upstream serves streams only"}}');
  });
  const up: MiniUpstream = {
    domain: '',
    sockets: [],
    upgrades: [],
    onConnection: null,
    async close() {
      for (const s of up.sockets) s.ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
  server.on('upgrade', (req, socket, head) => {
    up.upgrades.push(req.url ?? '');
    socket.on('error', () => {});
    wss.handleUpgrade(req, socket, head, (ws) => {
      const s: MiniSocket = {
        ws,
        received: [],
        closed: new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }))),
      };
      ws.on('message', (data, binary) =>
        s.received.push({ text: binary ? Buffer.from(data as Buffer).toString('base64') : data.toString(), binary }),
      );
      ws.on('error', () => {});
      up.sockets.push(s);
      up.onConnection?.(s);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  up.domain = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v3/directline`;
  return up;
}

/** A pino logger at debug level whose lines are collected in memory. */
export function collectingLogger(): { logger: Logger; lines: string[]; text: () => string } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  const logger = createLogger({ level: 'debug', destination: sink });
  return { logger, lines, text: () => lines.join('') };
}

// ---------- cassette queries ----------

export const httpEvents = (c: Cassette): HttpEvent[] => c.events.filter((e): e is HttpEvent => e.type === 'http');
export const wsMessages = (c: Cassette, socket?: number): WsMessageEvent[] =>
  c.events.filter((e): e is WsMessageEvent => e.type === 'ws.message' && (socket === undefined || e.socket === socket));

/** Activities carried by the server frames of a cassette, in order. */
export function recordedActivities(c: Cassette, socket?: number): any[] {
  return wsMessages(c, socket)
    .filter((e) => e.from === 'server' && 'json' in e.data)
    .flatMap((e) => ((e.data as { json: any }).json.activities as any[]) ?? []);
}

export function assertNonDecreasingT(events: CassetteEvent[]): void {
  for (let i = 1; i < events.length; i++) {
    if (events[i]!.t < events[i - 1]!.t) throw new Error(`events[${i}].t ${events[i]!.t} < events[${i - 1}].t ${events[i - 1]!.t}`);
  }
}

/** `type:text:role` of an activity: the part of it that is the same on every run (no ids, no timestamps). */
export const shape = (a: any): string => `${a.type}:${a.text ?? ''}:${a.from?.role ?? ''}`;
