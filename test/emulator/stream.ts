// The WebSocket stream (reference §2): pre-authorised by the `t=` query token, one socket per conversation,
// one ActivitySet text frame per activity, empty keep-alive frames, client frames ignored.
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket } from 'ws';
import type { TokenStore } from './auth.js';
import type { ConversationStore, Delivery } from './conversations.js';
import { parseWatermark } from './conversations.js';
import { CORS_HEADERS, errorBody, HttpError } from './errors.js';

/**
 * Close code for the older socket when a second one opens for the same conversation. The service's code
 * is undocumented (only the reason `collision` is, §2.4); 4000 is the first application-private code.
 */
export const COLLISION_CLOSE_CODE = 4000;
export const COLLISION_CLOSE_REASON = 'collision';
/** Default for dropSocket(): 1011 "unexpected condition", the closest standard code to a service-side drop (§2.5). */
export const DROP_CLOSE_CODE = 1011;
export const DROP_CLOSE_REASON = 'server closed the stream';

interface StreamHubOptions {
  basePath: string;
  keepAliveMs: number;
  tokens: TokenStore;
  conversations: ConversationStore;
  /** Accept permessage-deflate when the client offers it. */
  perMessageDeflate?: boolean;
}

export class StreamHub {
  private readonly wss: WebSocketServer;
  /** The current socket of each conversation. */
  private readonly current = new Map<string, WebSocket>();
  private readonly open = new Set<WebSocket>();

  constructor(private readonly opts: StreamHubOptions) {
    // threshold 0: every frame is compressed once the extension was negotiated.
    this.wss = new WebSocketServer({ noServer: true, perMessageDeflate: opts.perMessageDeflate ? { threshold: 0 } : false });
  }

  /** `upgrade` handler of the HTTP server. Failures answer with a plain HTTP status and a JSON error body. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, onOpen?: (ws: WebSocket) => void): void {
    socket.on('error', () => {}); // a client vanishing mid-handshake must not crash the emulator
    const url = new URL(req.url ?? '/', 'http://emulator.invalid');
    const prefix = `${this.opts.basePath}/conversations/`;
    const rest = url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length) : '';
    const match = /^([^/]+)\/stream$/.exec(rest);
    try {
      if (!match) throw new HttpError(404, 'BadArgument', 'Unknown stream URL');
      const conversationId = decodeURIComponent(match[1]!);
      // Late or forged t= → 403 on the handshake (§2.1, §6.3).
      const record = this.opts.tokens.verifyStreamToken(url.searchParams.get('t'));
      const conversation = this.opts.conversations.require(conversationId);
      if (record.claims.conv !== conversationId) throw new HttpError(403, 'BadArgument', 'Token not valid for this conversation');
      // An explicit numeric watermark wins; `-`/absent falls back to what the token was issued for
      // (start: the whole history; reconnect without watermark: only what arrives after it, §1.3 (4)).
      const replayAfter = parseWatermark(url.searchParams.get('watermark')) ?? record.replayAfter ?? -1;
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        onOpen?.(ws);
        this.attach(conversation.id, ws, replayAfter);
      });
    } catch (err) {
      const e = err instanceof HttpError ? err : new HttpError(500, 'ServiceError', String(err));
      rejectUpgrade(socket, e);
    }
  }

  private attach(conversationId: string, ws: WebSocket, replayAfter: number): void {
    const conversation = this.opts.conversations.require(conversationId);
    this.open.add(ws);
    // One socket per conversation (§2.4): the newcomer wins, the older one is closed with `collision`.
    const previous = this.current.get(conversationId);
    if (previous && previous.readyState === WebSocket.OPEN) previous.close(COLLISION_CLOSE_CODE, COLLISION_CLOSE_REASON);
    this.current.set(conversationId, ws);

    const send = (d: Delivery): void => {
      if (ws.readyState !== WebSocket.OPEN) return;
      // Typing is not stored, so its set carries no watermark (§2.2).
      ws.send(
        JSON.stringify(d.watermark === undefined ? { activities: [d.activity] } : { activities: [d.activity], watermark: d.watermark }),
      );
    };
    // Activities sent before the socket opened are replayed first (§2.2), then live ones; both happen in the
    // same tick, so nothing can slip in between.
    for (const d of conversation.storedAfter(replayAfter)) send(d);
    const unsubscribe = conversation.subscribe(send);

    const keepAlive =
      this.opts.keepAliveMs > 0
        ? setInterval(() => {
            if (ws.readyState === WebSocket.OPEN) ws.send('');
          }, this.opts.keepAliveMs)
        : undefined;

    // Client frames: "" pings (DirectLineJS, §2.3) and anything else are ignored, like the service does.
    ws.on('message', () => {});
    ws.on('error', () => {});
    ws.on('close', () => {
      if (keepAlive) clearInterval(keepAlive);
      unsubscribe();
      this.open.delete(ws);
      if (this.current.get(conversationId) === ws) this.current.delete(conversationId);
    });
  }

  drop(conversationId: string, code = DROP_CLOSE_CODE, reason = DROP_CLOSE_REASON): void {
    const ws = this.current.get(conversationId);
    if (ws && ws.readyState === WebSocket.OPEN) ws.close(code, reason);
  }

  close(): void {
    for (const ws of this.open) ws.terminate();
    this.open.clear();
    this.current.clear();
    this.wss.close();
  }
}

function rejectUpgrade(socket: Duplex, err: HttpError): void {
  const body = JSON.stringify(errorBody(err.code, err.message, err.extra));
  const headers = {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    ...Object.fromEntries(Object.entries(CORS_HEADERS)),
    Connection: 'close',
  };
  const head = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n');
  socket.end(`HTTP/1.1 ${err.status} ${STATUS_CODES[err.status] ?? ''}\r\n${head}\r\n\r\n${body}`);
}
