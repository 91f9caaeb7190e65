// WebSocket close codes: which ones may be sent in a close frame, and closing one socket the way another
// was closed (the recorder mirrors each leg's close on the other; replay repeats the recorded close).

/**
 * Whether a close frame may carry `code` (RFC 6455 §7.4, the same rule ws applies): 1000–1014 except 1004
 * (reserved), 1005 (no status) and 1006 (abnormal: no close frame at all), and the 3000–4999 ranges for
 * libraries and applications.
 */
export function isSendableCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

/** A close frame's reason holds at most 123 bytes (125 of control-frame payload less the code). */
export function clipCloseReason(reason: string): string {
  if (Buffer.byteLength(reason) <= 123) return reason;
  let r = reason;
  while (Buffer.byteLength(r) > 123) r = r.slice(0, -1);
  return r;
}

/** The part of a ws WebSocket that closing needs (kept structural so tests and both servers share it). */
export interface ClosableSocket {
  readonly readyState: number;
  close(code?: number, reason?: string): void;
  terminate(): void;
}

const CONNECTING = 0;
const OPEN = 1;

/**
 * Closes `ws` like a close seen with `code` and `reason`: a sendable code with its (clipped) reason; 1006 as a
 * drop (no close frame was seen, so none is sent); 1005 and any code a frame may not carry as a bare close. A
 * socket still connecting is dropped; one already closing or closed is left alone.
 */
export function closeLike(ws: ClosableSocket, code: number, reason: string): void {
  if (ws.readyState === CONNECTING || (ws.readyState === OPEN && code === 1006)) ws.terminate();
  else if (ws.readyState !== OPEN) return;
  else if (!isSendableCloseCode(code)) ws.close();
  else ws.close(code, clipCloseReason(reason));
}
