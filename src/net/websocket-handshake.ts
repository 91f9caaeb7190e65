// The checks ws makes when it accepts a handshake, made up front: both servers must refuse a malformed
// upgrade before they commit anything to it (an upstream stream, a recorded socket of a replay session).
import type { IncomingMessage } from 'node:http';

/** Why a WebSocket handshake is malformed (RFC 6455 §4.2.1), or null when it is well-formed. */
export function websocketHandshakeProblem(req: IncomingMessage): string | null {
  if ((req.method ?? 'GET').toUpperCase() !== 'GET') return `a WebSocket handshake must be a GET, not ${req.method}`;
  const upgrade = String(req.headers.upgrade ?? '').trim().toLowerCase();
  if (upgrade !== 'websocket') return `Upgrade: ${JSON.stringify(req.headers.upgrade ?? '')} is not a WebSocket handshake`;
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string' || !/^[+/0-9A-Za-z]{22}==$/.test(key.trim())) return 'missing or invalid Sec-WebSocket-Key header';
  const version = String(req.headers['sec-websocket-version'] ?? '').trim();
  if (version !== '13' && version !== '8') return `unsupported Sec-WebSocket-Version ${JSON.stringify(version)} (13 is served)`;
  return null;
}
