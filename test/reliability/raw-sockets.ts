// Raw-socket HTTP and WebSocket for the hostile-input tests: bytes written as given (split, malformed,
// half-sent), and the answer read until the server closes or a time limit passes.
import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { sleep } from '../support/async.js';

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
export function rawExchange(
  port: number,
  chunks: Array<string | Buffer>,
  opts: { timeoutMs?: number; gapMs?: number; untilResponse?: boolean; endAfterWrite?: boolean } = {},
): Promise<RawResult> {
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
      const accept = createHash('sha1')
        .update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11')
        .digest('base64');
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
      s.write(
        `GET ${pathAndQuery} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
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
export function clientFrame(
  opcode: number,
  payload: Buffer,
  opts: { masked?: boolean; declaredLength?: number; fin?: boolean; rsv?: number } = {},
): Buffer {
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
