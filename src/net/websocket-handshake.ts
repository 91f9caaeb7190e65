// The checks ws makes when it accepts a handshake, made up front: both servers must refuse a malformed
// upgrade before they commit anything to it (an upstream stream, a recorded socket of a replay session).
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { errorBody } from '../protocol/errors.js';

/** Why a WebSocket handshake is malformed (RFC 6455 §4.2.1), or null when it is well-formed. */
export function websocketHandshakeProblem(req: IncomingMessage): string | null {
  if ((req.method ?? 'GET').toUpperCase() !== 'GET') return `a WebSocket handshake must be a GET, not ${req.method}`;
  const upgrade = String(req.headers.upgrade ?? '')
    .trim()
    .toLowerCase();
  if (upgrade !== 'websocket') return `Upgrade: ${JSON.stringify(req.headers.upgrade ?? '')} is not a WebSocket handshake`;
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string' || !/^[+/0-9A-Za-z]{22}==$/.test(key.trim())) return 'missing or invalid Sec-WebSocket-Key header';
  const version = String(req.headers['sec-websocket-version'] ?? '').trim();
  if (version !== '13' && version !== '8') return `unsupported Sec-WebSocket-Version ${JSON.stringify(version)} (13 is served)`;
  return null;
}

/** Answers an upgrade request with a plain HTTP response instead of 101, and closes the socket. */
export function writeUpgradeRefusal(
  socket: Duplex,
  status: number,
  headers: Record<string, string>,
  body: Buffer,
  statusMessage?: string,
): void {
  if (socket.destroyed) return;
  const all: Record<string, string> = { ...headers, 'content-length': String(body.length), connection: 'close' };
  let head = `HTTP/1.1 ${status} ${statusMessage ?? STATUS_CODES[status] ?? 'Unknown'}\r\n`;
  for (const [k, v] of Object.entries(all)) head += `${k}: ${v}\r\n`;
  socket.on('error', () => socket.destroy());
  socket.end(Buffer.concat([Buffer.from(head + '\r\n', 'latin1'), body]));
}

/** Refuses an upgrade with a Direct Line error body (`{error:{code,message}}`, src/protocol/errors.ts). */
export function writeUpgradeError(
  socket: Duplex,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
  extra: Record<string, unknown> = {},
): void {
  const body = Buffer.from(JSON.stringify(errorBody(code, message, extra)));
  writeUpgradeRefusal(socket, status, { 'content-type': 'application/json; charset=utf-8', ...headers }, body);
}
