// The WebSocket half of the recorder. For each client upgrade it first opens the upstream stream
// and only then accepts the client, so a refused upstream handshake (e.g. 403 after the stream
// token's 60 s) reaches the client as the same refusal. Frames are relayed both ways untouched
// (keep-alives and the client's empty pings included) and captured; a close on one side closes the
// other with the same code and reason. The one exception: a server frame holding an attachment URL on the
// upstream's origin reaches the client with that URL on the recorder (attachment-urls.ts); the cassette
// keeps the frame as the upstream sent it. Frames without the upstream's host in them are never parsed.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer, type RawData } from 'ws';
import type { Logger } from 'pino';
import { encodeBody, encodeFrame } from '../cassette/body.js';
import { matchRoute, stripBase } from '../protocol/routes.js';
import { websocketHandshakeProblem, writeUpgradeError, writeUpgradeRefusal } from '../net/websocket-handshake.js';
import { closeLike } from '../net/close-codes.js';
import { errorBody } from '../protocol/errors.js';
import { Capture, pickResponseHeaders, queryOf } from './capture.js';
import type { StreamUrls } from './stream-urls.js';
import type { AttachmentUrls } from './attachment-urls.js';
import type { Upstream } from './upstream.js';
import type { Outbound } from './outbound.js';
import type { CorsPolicy } from '../net/cors.js';

export interface WsRelayOptions {
  upstream: Upstream;
  capture: Capture | null;
  streamUrls: StreamUrls;
  logger: Logger;
  maxFrameBytes: number;
  /** Options of the upstream socket (TLS trust, the proxy tunnel agent: outbound.wsOptions). */
  wsOptions?: WebSocket.ClientOptions;
  /** Words for a failed upstream handshake (TLS named) and the proxy's refusals. */
  outbound?: Outbound;
  /** Upgrades whose Origin is not allowed are refused with 403. */
  cors?: CorsPolicy;
  /** Attachment URLs in server frames are rewritten to proxyOrigin(upgrade request) and remembered here. */
  attachments?: { urls: AttachmentUrls; proxyOrigin: (req: IncomingMessage) => string };
}

// Pause the sending side when the receiving side has this much unsent (backpressure).
const HIGH_WATER = 1 << 20;

interface Pair {
  client: WebSocket | null;
  upstream: WebSocket;
  socket: number;
  conversationId: string | null;
  closing: 'server' | 'client' | 'proxy' | null;
  /** http(s) origin the client reached us by (for attachment URLs). */
  proxyOrigin: string;
}

export class WsRelay {
  /** Client legs whose upstream leg is compressed offer permessage-deflate; the others do not. */
  private readonly wssDeflate: WebSocketServer;
  private readonly wssPlain: WebSocketServer;
  private readonly pairs = new Set<Pair>();

  constructor(private readonly opts: WsRelayOptions) {
    // permessage-deflate is negotiated on each leg on its own, and frames are captured decompressed. The client
    // leg offers it only when the upstream leg uses it: compressing frames the upstream sent plain costs a zlib
    // pass per frame and ~250 KB of zlib state per socket (bench: 0.06x of a plain relay's frames/s).
    this.wssDeflate = new WebSocketServer({ noServer: true, perMessageDeflate: true, maxPayload: opts.maxFrameBytes });
    this.wssPlain = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: opts.maxFrameBytes });
  }

  get openCount(): number {
    return this.pairs.size;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const { upstream, logger } = this.opts;
    socket.on('error', () => socket.destroy());
    const url = req.url && req.url.startsWith('/') ? new URL(req.url, 'http://proxy.invalid') : null;
    const sub = url ? stripBase(url.pathname, upstream.basePath) : null;
    const route = sub !== null ? matchRoute('GET', sub) : null;
    if (!url || !route || route.route !== 'stream') {
      writeUpgradeError(socket, 404, 'NotFound', `no Direct Line stream at this path; streams live at ${upstream.basePath}/conversations/{id}/stream`);
      return;
    }
    const refusal = this.opts.cors?.refusal(req);
    if (refusal) {
      logger.warn({ path: url.pathname, origin: req.headers.origin }, `stream upgrade refused: ${refusal}`);
      writeUpgradeError(socket, 403, 'OriginNotAllowed', refusal);
      return;
    }
    // Refuse a malformed handshake before opening the upstream stream: ws would refuse it later, and the
    // upstream socket opened for it would be left behind.
    const malformed = websocketHandshakeProblem(req);
    if (malformed) {
      logger.warn({ path: url.pathname }, `stream upgrade refused: ${malformed}`);
      writeUpgradeError(socket, 400, 'BadArgument', malformed);
      return;
    }
    const conversationId = route.conversationId;
    const target = this.opts.streamUrls.resolve(url.pathname + url.search, upstream.wsOrigin);
    const socketNo = this.opts.capture?.nextSocket() ?? 0;
    const query = queryOf(url.searchParams);
    const up = new WebSocket(target, { perMessageDeflate: true, maxPayload: this.opts.maxFrameBytes, ...this.opts.wsOptions });
    const pair: Pair = { client: null, upstream: up, socket: socketNo, conversationId, closing: null, proxyOrigin: this.opts.attachments?.proxyOrigin(req) ?? '' };
    const early: Array<[RawData, boolean]> = [];
    let failed = false;
    this.pairs.add(pair);

    up.on('unexpected-response', (upReq, res) => {
      const refused = this.opts.outbound?.proxyRefusal(upReq);
      if (refused) {
        // The proxy answered in the upstream's place: report it as an unreachable upstream.
        res.resume();
        const err: NodeJS.ErrnoException = new Error(`the proxy answered ${refused.statusCode} ${refused.statusText} to CONNECT ${new URL(target).host}`.trim());
        err.code = 'PROXY_TUNNEL_REFUSED';
        up.emit('error', err);
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        const status = res.statusCode ?? 502;
        this.opts.capture?.wsOpen(socketNo, conversationId, url.pathname, query, status, {
          status, headers: pickResponseHeaders(res.headers), body: encodeBody(body, res.headers['content-type'] as string | undefined),
        });
        logger.warn({ conversationId, status }, `stream handshake refused by the upstream (${status})`);
        writeUpgradeRefusal(socket, status, { 'content-type': (res.headers['content-type'] as string | undefined) ?? 'application/json; charset=utf-8' }, body, res.statusMessage);
        this.pairs.delete(pair);
      });
    });
    up.on('error', (err: NodeJS.ErrnoException) => {
      if (pair.client || failed) return; // after open, 'close' follows and handles it; one answer per upgrade
      failed = true;
      this.pairs.delete(pair);
      const { code, message } = this.opts.outbound?.describeError(err, 'stream')
        ?? { code: 'UpstreamUnreachable', message: `directline-vcr could not open the upstream stream: ${err.code ?? err.message}` };
      logger.error({ conversationId, code: err.code }, message);
      this.opts.capture?.wsOpen(socketNo, conversationId, url.pathname, query, 502, { status: 502, headers: {}, body: { json: errorBody(code, message) } });
      writeUpgradeError(socket, 502, code, message);
    });
    up.on('message', (data, isBinary) => {
      if (!pair.client) {
        early.push([data, isBinary]);
        return;
      }
      this.forward(pair, 'server', data, isBinary);
    });
    up.on('open', () => {
      if (socket.destroyed) {
        up.terminate();
        this.pairs.delete(pair);
        return;
      }
      const wss = up.extensions.includes('permessage-deflate') ? this.wssDeflate : this.wssPlain;
      wss.handleUpgrade(req, socket, head, (client) => {
        pair.client = client;
        this.opts.capture?.wsOpen(socketNo, conversationId, url.pathname, query, 101);
        logger.info({ conversationId, socket: socketNo }, 'stream open');
        for (const [d, b] of early.splice(0)) this.forward(pair, 'server', d, b);
        client.on('message', (data, isBinary) => this.forward(pair, 'client', data, isBinary));
        client.on('close', (code, reason) => this.onClose(pair, 'client', code, reason.toString()));
        client.on('error', (err) => logger.debug({ err: err.message, conversationId }, 'client socket error'));
      });
    });
    up.on('close', (code, reason) => {
      if (pair.client) this.onClose(pair, 'server', code, reason.toString());
    });
  }

  private forward(pair: Pair, from: 'server' | 'client', data: RawData, isBinary: boolean): void {
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    const to = from === 'server' ? pair.client : pair.upstream;
    const src = from === 'server' ? pair.upstream : pair.client;
    this.opts.capture?.wsMessage(pair.socket, pair.conversationId, from, encodeFrame(buf, isBinary));
    this.opts.logger.debug({ conversationId: pair.conversationId, from, bytes: buf.length }, 'frame');
    if (!to || to.readyState !== WebSocket.OPEN) return;
    const attachments = this.opts.attachments;
    const out = from === 'server' && !isBinary && attachments?.urls.mayContain(buf) ? rewriteFrame(buf, attachments.urls, pair) : buf;
    to.send(out, { binary: isBinary }, () => {
      if (src && src.isPaused && to.bufferedAmount < HIGH_WATER / 2) src.resume();
    });
    if (src && to.bufferedAmount > HIGH_WATER) src.pause();
  }

  private onClose(pair: Pair, side: 'server' | 'client', code: number, reason: string): void {
    if (pair.closing) {
      // The second close of a pair is the echo of the first one.
      this.pairs.delete(pair);
      return;
    }
    pair.closing = side;
    this.opts.capture?.wsClose(pair.socket, pair.conversationId, side, code, reason);
    // The reason is free text from a peer: it may carry a secret, so the log gets the cassette's redacted form.
    const loggedReason = this.opts.capture ? this.opts.capture.redactor.text(reason) : reason;
    this.opts.logger.info({ conversationId: pair.conversationId, socket: pair.socket, by: side, code, reason: loggedReason }, 'stream closed');
    const other = side === 'server' ? pair.client : pair.upstream;
    if (other) closeLike(other, code, reason);
    this.pairs.delete(pair);
  }

  /** Closes every relayed stream (recorder shutdown); each is captured as closed by the proxy. */
  async closeAll(code = 1001, reason = 'directline-vcr stopped'): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const pair of [...this.pairs]) {
      if (!pair.closing) {
        pair.closing = 'proxy';
        if (pair.client) this.opts.capture?.wsClose(pair.socket, pair.conversationId, 'proxy', code, reason);
      }
      for (const ws of [pair.client, pair.upstream]) {
        if (!ws) continue;
        waits.push(new Promise<void>((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          const timer = setTimeout(() => { ws.terminate(); resolve(); }, 1000);
          ws.once('close', () => { clearTimeout(timer); resolve(); });
          if (ws.readyState === WebSocket.CONNECTING) ws.terminate(); else ws.close(code, reason);
        }));
      }
    }
    this.pairs.clear();
    await Promise.all(waits);
    this.wssDeflate.close();
    this.wssPlain.close();
  }
}

/** A server frame with its attachment URLs on the recorder, or the very same buffer when it has none. */
function rewriteFrame(buf: Buffer, urls: AttachmentUrls, pair: Pair): Buffer {
  const first = buf[0];
  if (first !== 0x7b && first !== 0x5b) return buf; // not JSON ({ or [): keep-alives, text
  let json: unknown;
  try {
    json = JSON.parse(buf.toString('utf8'));
  } catch {
    return buf;
  }
  return urls.rewriteJson(json, pair.proxyOrigin, pair.conversationId) ? Buffer.from(JSON.stringify(json)) : buf;
}

