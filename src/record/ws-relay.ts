// The WebSocket half of the recorder: checks each client upgrade (a stream path, an allowed origin, a
// well-formed handshake) before anything is opened upstream, and relays each accepted one as a RelayedStream.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { websocketHandshakeProblem, writeUpgradeError } from '../net/websocket-handshake.js';
import { matchRoute, Route, stripBase } from '../protocol/routes.js';
import type { RecordContext } from './context.js';
import { RelayedStream, refuseByFault, type StreamHost } from './relayed-stream.js';

export class WsRelay implements StreamHost {
  /** Client legs whose upstream leg is compressed offer permessage-deflate; the others do not. */
  private readonly wssDeflate: WebSocketServer;
  private readonly wssPlain: WebSocketServer;
  private readonly streams = new Set<RelayedStream>();

  constructor(private readonly ctx: RecordContext) {
    // permessage-deflate is negotiated on each leg on its own, and frames are captured decompressed. The client
    // leg offers it only when the upstream leg uses it: compressing frames the upstream sent plain costs a zlib
    // pass per frame and ~250 KB of zlib state per socket (bench: 0.06x of a plain relay's frames/s).
    this.wssDeflate = new WebSocketServer({ noServer: true, perMessageDeflate: true, maxPayload: ctx.maxBodyBytes });
    this.wssPlain = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: ctx.maxBodyBytes });
  }

  get openCount(): number {
    return this.streams.size;
  }

  /** The front door's upgrade handler: every upgrade that reaches it is answered. */
  readonly handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): boolean => {
    const { upstream, logger, cors } = this.ctx;
    const url = req.url?.startsWith('/') ? new URL(req.url, 'http://proxy.invalid') : null;
    const sub = url ? stripBase(url.pathname, upstream.basePath) : null;
    const route = sub !== null ? matchRoute('GET', sub) : null;
    if (!url || !route || route.route !== Route.stream) {
      writeUpgradeError(
        socket,
        404,
        'NotFound',
        `no Direct Line stream at this path; streams live at ${upstream.basePath}/conversations/{id}/stream`,
      );
      return true;
    }
    const refusal = cors.refusal(req);
    if (refusal) {
      logger.warn({ path: url.pathname, origin: req.headers.origin }, `stream upgrade refused: ${refusal}`);
      writeUpgradeError(socket, 403, 'OriginNotAllowed', refusal);
      return true;
    }
    // Refuse a malformed handshake before opening the upstream stream: ws would refuse it later, and the
    // upstream socket opened for it would be left behind.
    const malformed = websocketHandshakeProblem(req);
    if (malformed) {
      logger.warn({ path: url.pathname }, `stream upgrade refused: ${malformed}`);
      writeUpgradeError(socket, 400, 'BadArgument', malformed);
      return true;
    }
    const upgrade = { req, socket, head, url, conversationId: route.conversationId };
    const refused = this.ctx.faults.upgrade(route.conversationId);
    if (refused) {
      refuseByFault(this.ctx, upgrade, refused);
      return true;
    }
    this.streams.add(new RelayedStream(this.ctx, upgrade, this));
    return true;
  };

  serverFor(deflate: boolean): WebSocketServer {
    return deflate ? this.wssDeflate : this.wssPlain;
  }

  ended(stream: RelayedStream): void {
    this.streams.delete(stream);
  }

  /** Closes every relayed stream (recorder shutdown); each is captured as closed by the proxy. */
  async closeAll(code = 1001, reason = 'directline-vcr stopped'): Promise<void> {
    const streams = [...this.streams];
    this.streams.clear();
    await Promise.all(streams.map((s) => s.shutdown(code, reason)));
    this.wssDeflate.close();
    this.wssPlain.close();
  }
}
