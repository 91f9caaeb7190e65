// One relayed Direct Line stream: the upstream socket is opened first and the client's upgrade accepted only
// then, so a refused upstream handshake (e.g. 403 after the stream token's 60 s) reaches the client as the same
// refusal. Frames are relayed both ways untouched (keep-alives and the client's empty pings included) and
// captured; a close on one side closes the other with the same code and reason (src/net/close-codes.ts). The
// one exception: a server frame holding an attachment URL on the upstream's origin reaches the client with that
// URL on the recorder (attachment-urls.ts); the cassette keeps the frame as the upstream sent it. Frames
// without the upstream's host in them are never parsed.
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import WebSocket, { type RawData, type WebSocketServer } from 'ws';
import { closeLike } from '../net/close-codes.js';
import { writeUpgradeError, writeUpgradeRefusal } from '../net/websocket-handshake.js';
import { errorBody } from '../protocol/errors.js';
import { pickResponseHeaders, queryOf } from './capture.js';
import type { RawResponse } from './capture-client.js';
import { clientOrigins, type RecordContext } from './context.js';
import type { FaultReply } from '../faults/responses.js';
import type { FaultNote } from '../faults/plan.js';
import type { StreamTap } from '../faults/stream-tap.js';

// Pause the sending side when the receiving side has this much unsent (backpressure).
const HIGH_WATER = 1 << 20;
// ws send options, shared by every frame.
const TEXT = { binary: false };
const BINARY = { binary: true };

type Side = 'server' | 'client';

/** The client's upgrade, as it arrived. */
export interface StreamUpgrade {
  req: IncomingMessage;
  socket: Duplex;
  head: Buffer;
  url: URL;
  conversationId: string | null;
}

/** Where a relayed stream lives: the client leg's server and the set of open streams (ws-relay.ts). */
export interface StreamHost {
  /** The client leg's server, with or without permessage-deflate (as the upstream leg chose). */
  serverFor(deflate: boolean): WebSocketServer;
  /** The stream is over (or never opened). */
  ended(stream: RelayedStream): void;
}

export class RelayedStream {
  readonly socketNo: number;
  readonly conversationId: string | null;
  private readonly upstream: WebSocket;
  private client: WebSocket | null = null;
  /** Server frames reach the client through the fault plan (drops, timed closes, frame latency). */
  private tap: StreamTap | null = null;
  private closing: Side | 'proxy' | null = null;
  /** Server frames that arrived before the client's socket was accepted (made when the first one comes). */
  private early: Array<[RawData, boolean]> | null = null;
  private failed = false;
  /** The send callbacks of each direction (see sentCallback). */
  private readonly sent: { fromServer?: () => void; fromClient?: () => void } = {};
  /**
   * The client's upgrade and its query, until the stream is open: then they are let go (the request's headers
   * would otherwise be kept for as long as the conversation lasts).
   */
  private upgrade: StreamUpgrade | null;
  private query: Record<string, string> | null;
  private readonly path: string;
  /** http(s) origin the client reached us by (for attachment URLs). */
  private readonly proxyOrigin: string;

  constructor(
    private readonly ctx: RecordContext,
    upgrade: StreamUpgrade,
    private readonly host: StreamHost,
  ) {
    this.upgrade = upgrade;
    this.path = upgrade.url.pathname;
    this.conversationId = upgrade.conversationId;
    this.socketNo = ctx.capture?.nextSocket() ?? 0;
    this.query = queryOf(upgrade.url.searchParams);
    this.proxyOrigin = clientOrigins(ctx, upgrade.req).http;
    const target = ctx.streamUrls.resolve(upgrade.url.pathname + upgrade.url.search, ctx.upstream.wsOrigin);
    this.upstream = new WebSocket(target, { perMessageDeflate: true, maxPayload: ctx.maxBodyBytes, ...ctx.outbound.wsOptions });
    this.upstream.on('unexpected-response', (upReq, res) => this.onUpstreamRefused(upReq, res, target));
    this.upstream.on('error', (err: NodeJS.ErrnoException) => this.onUpstreamError(err));
    this.upstream.on('message', (data, isBinary) => this.onServerFrame(data, isBinary));
    this.upstream.on('open', () => this.onUpstreamOpen());
    this.upstream.on('close', (code, reason) => {
      if (this.client) this.onClose('server', code, reason.toString());
    });
  }

  /** The upstream answered the handshake with something else than 101: the client gets that answer. */
  private onUpstreamRefused(upReq: ClientRequest, res: IncomingMessage, target: string): void {
    const refused = this.ctx.outbound.proxyRefusal(upReq);
    if (refused) {
      // The proxy answered in the upstream's place: report it as an unreachable upstream.
      res.resume();
      const err: NodeJS.ErrnoException = new Error(
        `the proxy answered ${refused.statusCode} ${refused.statusText} to CONNECT ${new URL(target).host}`.trim(),
      );
      err.code = 'PROXY_TUNNEL_REFUSED';
      this.upstream.emit('error', err);
      return;
    }
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => {
      const body = Buffer.concat(chunks);
      const status = res.statusCode ?? 502;
      const contentType = res.headers['content-type'];
      this.captureOpen(status, { status, headers: pickResponseHeaders(res.headers), body: { bytes: body, contentType } });
      this.ctx.logger.warn({ conversationId: this.conversationId, status }, `stream handshake refused by the upstream (${status})`);
      writeUpgradeRefusal(
        (this.upgrade as StreamUpgrade).socket,
        status,
        { 'content-type': contentType ?? 'application/json; charset=utf-8' },
        body,
        res.statusMessage,
      );
      this.host.ended(this);
    });
  }

  private onUpstreamError(err: NodeJS.ErrnoException): void {
    if (this.client || this.failed) return; // after open, 'close' follows and handles it; one answer per upgrade
    this.failed = true;
    this.host.ended(this);
    const { code, message } = this.ctx.outbound.describeError(err, 'stream');
    this.ctx.logger.error({ conversationId: this.conversationId, code: err.code }, message);
    this.captureOpen(502, {
      status: 502,
      headers: {},
      body: { bytes: Buffer.from(JSON.stringify(errorBody(code, message))), contentType: 'application/json' },
    });
    writeUpgradeError((this.upgrade as StreamUpgrade).socket, 502, code, message);
  }

  private onUpstreamOpen(): void {
    const { req, socket, head } = this.upgrade as StreamUpgrade;
    if (socket.destroyed) {
      this.upstream.terminate();
      this.host.ended(this);
      return;
    }
    this.host
      .serverFor(this.upstream.extensions.includes('permessage-deflate'))
      .handleUpgrade(req, socket, head, (client) => this.onClientAccepted(client));
  }

  private onClientAccepted(client: WebSocket): void {
    this.client = client;
    this.tap = this.ctx.faults.stream(this.conversationId, client, { onFaultClose: (code, note) => this.onFaultClose(code, note) });
    this.captureOpen(101);
    this.upgrade = null;
    this.query = null;
    const { logger } = this.ctx;
    if (logger.isLevelEnabled('info')) logger.info({ conversationId: this.conversationId, socket: this.socketNo }, 'stream open');
    const early = this.early;
    this.early = null;
    if (early) for (const [d, b] of early) this.forward('server', d, b);
    client.on('message', (data, isBinary) => this.forward('client', data, isBinary));
    client.on('close', (code, reason) => this.onClose('client', code, reason.toString()));
    client.on('error', (err) => this.ctx.logger.debug({ err: err.message, conversationId: this.conversationId }, 'client socket error'));
  }

  private onServerFrame(data: RawData, isBinary: boolean): void {
    if (!this.client) (this.early ??= []).push([data, isBinary]);
    else this.forward('server', data, isBinary);
  }

  private forward(from: Side, data: RawData, isBinary: boolean): void {
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    const to = from === 'server' ? this.client : this.upstream;
    const src = from === 'server' ? this.upstream : this.client;
    // Sent first, then captured: the capture copies the bytes (ws never changes a Buffer it sends).
    if (to && to.readyState === WebSocket.OPEN) {
      const out = from === 'server' && !isBinary ? this.forClient(buf) : buf;
      if (from === 'server' && this.tap) this.tap.send(out, isBinary, src ? this.sentCallback(src, to) : undefined);
      else to.send(out, isBinary ? BINARY : TEXT, src ? this.sentCallback(src, to) : undefined);
      if (src && to.bufferedAmount > HIGH_WATER) src.pause();
    }
    const capture = this.ctx.capture;
    capture?.wsMessage(this.socketNo, this.conversationId, from, buf, isBinary);
    const { logger } = this.ctx;
    if (logger.isLevelEnabled('debug')) logger.debug({ conversationId: this.conversationId, from, bytes: buf.length }, 'frame');
    // The capture worker is behind: read no more from this side until it has caught up.
    if (src && capture?.backedUp && !src.isPaused) {
      src.pause();
      capture.whenDrained(() => this.resumeIfClear(src, to));
    }
  }

  /** What a frame's send calls back: resumes its sender once the receiver has drained (one per leg, made once). */
  private sentCallback(src: WebSocket, to: WebSocket): () => void {
    const key = src === this.upstream ? 'fromServer' : 'fromClient';
    let cb = this.sent[key];
    if (!cb) {
      cb = () => {
        if (src.isPaused && to.bufferedAmount < HIGH_WATER / 2) this.resumeIfClear(src, to);
      };
      this.sent[key] = cb;
    }
    return cb;
  }

  /** Reads from `src` again unless the other side or the capture still holds it back. */
  private resumeIfClear(src: WebSocket, to: WebSocket | null): void {
    if (!src.isPaused || this.ctx.capture?.backedUp) return;
    if (to && to.readyState === WebSocket.OPEN && to.bufferedAmount >= HIGH_WATER / 2) return;
    src.resume();
  }

  /** A server frame with its attachment URLs on the recorder, or the very same buffer when it has none. */
  private forClient(buf: Buffer): Buffer {
    const urls = this.ctx.attachmentUrls;
    if (!urls.mayContain(buf)) return buf;
    const first = buf[0];
    if (first !== 0x7b && first !== 0x5b) return buf; // not JSON ({ or [): keep-alives, text
    let json: unknown;
    try {
      json = JSON.parse(buf.toString('utf8'));
    } catch {
      return buf;
    }
    return urls.rewriteJson(json, this.proxyOrigin, this.conversationId) ? Buffer.from(JSON.stringify(json)) : buf;
  }

  private onClose(side: Side, code: number, reason: string): void {
    if (this.closing) {
      // The second close of a pair is the echo of the first one.
      this.host.ended(this);
      return;
    }
    this.closing = side;
    const capture = this.ctx.capture;
    capture?.wsClose(this.socketNo, this.conversationId, side, code, reason);
    // The reason is free text from a peer: it may carry a secret, so the log gets the cassette's redacted form.
    const fields = { conversationId: this.conversationId, socket: this.socketNo, by: side, code };
    if (!capture) this.ctx.logger.info({ ...fields, reason }, 'stream closed');
    else {
      capture.redactText(reason).then(
        (redacted) => this.ctx.logger.info({ ...fields, reason: redacted }, 'stream closed'),
        () => this.ctx.logger.info(fields, 'stream closed'),
      );
    }
    const other = side === 'server' ? this.client : this.upstream;
    if (other) closeLike(other, code, reason);
    this.host.ended(this);
  }

  /** The fault plan ends the client's leg: noted as closed by the proxy, and the upstream leg is closed too. */
  private onFaultClose(code: number, note: FaultNote): void {
    this.closing = 'proxy';
    this.ctx.capture?.wsClose(this.socketNo, this.conversationId, 'proxy', code, '', note);
    const fields = { conversationId: this.conversationId, socket: this.socketNo, by: 'proxy', code, fault: note.rule };
    this.ctx.logger.info(fields, 'stream closed by a fault');
    closeLike(this.upstream, 1000, '');
  }

  /** Closes both legs (recorder shutdown); the stream is captured as closed by the proxy. */
  shutdown(code: number, reason: string): Promise<void> {
    if (!this.closing) {
      this.closing = 'proxy';
      if (this.client) this.ctx.capture?.wsClose(this.socketNo, this.conversationId, 'proxy', code, reason);
    }
    const waits = [this.client, this.upstream].map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (!ws || ws.readyState === WebSocket.CLOSED) return resolve();
          const timer = setTimeout(() => {
            ws.terminate();
            resolve();
          }, 1000);
          ws.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
          else ws.close(code, reason);
        }),
    );
    return Promise.all(waits).then(() => undefined);
  }

  private captureOpen(status: number, response?: RawResponse): void {
    this.ctx.capture?.wsOpen(this.socketNo, this.conversationId, this.path, this.query ?? {}, status, response);
  }
}

/**
 * A stream upgrade the fault plan refuses (e.g. refuse-stream, expire-token): answered here as the service
 * would, noted in the cassette, and the upstream stream is never opened.
 */
export function refuseByFault(ctx: RecordContext, upgrade: StreamUpgrade, refused: { reply: FaultReply; note: FaultNote }): void {
  const { reply, note } = refused;
  const { url } = upgrade;
  ctx.capture?.wsOpen(
    ctx.capture.nextSocket(),
    upgrade.conversationId,
    url.pathname,
    queryOf(url.searchParams),
    reply.status,
    {
      status: reply.status,
      headers: reply.headers,
      body: { bytes: reply.body, contentType: reply.headers['content-type'] },
    },
    note,
  );
  writeUpgradeRefusal(upgrade.socket, reply.status, reply.headers, reply.body);
}
