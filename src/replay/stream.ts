// The WebSocket side of one session: the live client's sockets (the k-th upgrade plays recorded socket #k),
// the backlog after the client's watermark on connect, and released items as frames — activity sets to
// every open socket, keep-alives, raw frames and server closes to the socket with the recorded ordinal.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, type WebSocketServer } from 'ws';
import { decodeBody, decodeFrame } from '../cassette/body.js';
import type { Logger } from '../log.js';
import type { FaultPlan } from '../faults/plan.js';
import type { StreamTap } from '../faults/stream-tap.js';
import type { Activity } from '../protocol/types.js';
import { Route } from '../protocol/routes.js';
import type { ActivitiesItem, StreamItem } from './conversation-model.js';
import { keptHeaders, refuseUpgrade } from './http-io.js';
import { closeLike } from '../net/close-codes.js';
import type { Session } from './session.js';

interface LiveSocket {
  ws: WebSocket;
  ordinal: number;
  /** Every server frame goes out through the fault plan's tap. */
  tap: StreamTap;
  /** Log position the client's watermark pointed at when it connected: it has everything up to there. */
  after: number;
}

export class StreamHub {
  private readonly sockets = new Set<LiveSocket>();
  private attempts = 0;
  /** Told when a socket of this session opens or closes (the registry counts that as use). */
  onUse: () => void = () => {};

  get openSockets(): number {
    return this.sockets.size;
  }

  constructor(
    private readonly session: Session,
    private readonly wss: WebSocketServer,
    private readonly logger: Logger,
    private readonly faults: FaultPlan,
    private readonly faultScope: string,
  ) {}

  /** Handles the live client's next upgrade to this session's stream. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, query: URLSearchParams, arrival: number, cors: Record<string, string>): void {
    this.session.attach(arrival, 'stream');
    // A faulted refusal is no attempt of the recording's: the next upgrade still plays recorded socket #k.
    const refused = this.faults.upgrade(this.faultScope);
    if (refused) {
      refuseUpgrade(socket, refused.reply, cors);
      return;
    }
    const ordinal = ++this.attempts;
    const recorded = this.session.model.sockets[ordinal - 1];
    if (recorded && recorded.status !== 101) {
      // A recorded failed handshake (e.g. 403 for a t= past its 60 s) is answered the same way.
      const res = recorded.response;
      const body =
        res?.body && 'json' in res.body
          ? Buffer.from(JSON.stringify(this.session.subst.json(res.body.json)))
          : res?.body && 'text' in res.body
            ? Buffer.from(this.session.subst.text(res.body.text))
            : decodeBody(res?.body ?? null);
      const headers = res ? keptHeaders(res.headers, (v) => this.session.subst.text(v)) : {};
      this.logger.info(
        { route: Route.stream, status: recorded.status, session: this.session.n, socket: ordinal },
        'replayed a refused stream handshake',
      );
      refuseUpgrade(socket, { status: recorded.status, headers, body }, cors);
      return;
    }
    const watermark = query.get('watermark');
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const live: LiveSocket = { ws, ordinal, tap: this.faults.stream(this.faultScope, ws), after: this.session.positionAfter(watermark) };
      this.sendBacklog(live, watermark);
      this.sockets.add(live);
      this.onUse();
      this.logger.info({ route: Route.stream, status: 101, session: this.session.n, socket: ordinal }, 'stream opened');
      ws.on('message', (data, isBinary) => {
        // Client frames (the empty pings of DirectLineJS) are accepted and ignored.
        this.logger.debug(
          { session: this.session.n, socket: ordinal, bytes: Buffer.isBuffer(data) ? data.length : 0, isBinary },
          'client frame ignored',
        );
      });
      ws.on('close', (code) => {
        this.sockets.delete(live);
        this.onUse();
        this.logger.debug({ session: this.session.n, socket: ordinal, code }, 'stream closed');
      });
      ws.on('error', (err) => this.logger.debug({ err, session: this.session.n, socket: ordinal }, 'stream error'));
    });
  }

  /** Sends a released item to the sockets it is meant for. */
  deliver(item: StreamItem): void {
    if (item.kind === 'activities') {
      if (this.sockets.size === 0) return;
      let frames: string[] | undefined;
      for (const s of this.sockets) {
        // A resuming client's watermark can be ahead of what this session released when it connected: what it
        // covers is not sent again (the service sends only activities after the stream's watermark).
        if (item.entries.length > 0 && item.entries[0] <= s.after) {
          const fresh = item.entries.filter((i) => i > s.after);
          if (fresh.length === 0) continue;
          const log = this.session.model.log;
          const watermark = fresh
            .map((i) => log[i].watermark)
            .filter((w) => w !== undefined)
            .at(-1);
          this.send(s, JSON.stringify({ activities: fresh.map((i) => this.session.serveActivity(log[i])), watermark }), false);
          continue;
        }
        for (const frame of (frames ??= this.framesOf(item))) this.send(s, frame, false);
      }
      return;
    }
    const target = this.byOrdinal(item.ordinal);
    if (!target) return; // that socket is not open live: the item has nowhere to go
    if (item.kind === 'keepalive') this.send(target, item.text, false);
    else if (item.kind === 'raw') {
      const { payload, isBinary } = decodeFrame(item.data);
      this.send(target, typeof payload === 'string' ? this.session.subst.text(payload) : payload, isBinary);
    } else {
      this.logger.debug({ session: this.session.n, socket: item.ordinal, code: item.code }, 'replaying a server close');
      target.tap.after(() => closeLike(target.ws, item.code, item.reason));
    }
  }

  closeAll(code = 1001, reason = 'replay server closing'): void {
    for (const s of this.sockets) closeLike(s.ws, code, reason);
  }

  terminateAll(): void {
    for (const s of this.sockets) s.ws.terminate();
    this.sockets.clear();
  }

  /** Frames for an activity item: the recorded frame, or one frame per activity first seen by a poll. */
  private framesOf(item: ActivitiesItem): string[] {
    const log = this.session.model.log;
    if (item.frame) return [this.session.templatedFrame(item) ?? this.session.generalFrame(item)];
    return item.entries.map((i) => JSON.stringify({ activities: [this.session.serveActivity(log[i])], watermark: log[i].watermark }));
  }

  /** Released stored activities after the client's watermark, one frame per recorded item. */
  private sendBacklog(live: LiveSocket, watermark: string | null): void {
    const log = this.session.model.log;
    const end = this.session.releasedEntries;
    let batch: Activity[] = [];
    let batchItem = -1;
    let batchWatermark: string | undefined;
    const flush = () => {
      if (batch.length) this.send(live, JSON.stringify({ activities: batch, watermark: batchWatermark }), false);
      batch = [];
    };
    for (let i = this.session.positionAfter(watermark) + 1; i < end; i++) {
      const entry = log[i];
      if (entry.typing) continue;
      if (entry.item !== batchItem) {
        flush();
        batchItem = entry.item;
      }
      batch.push(this.session.serveActivity(entry));
      batchWatermark = entry.watermark;
    }
    flush();
  }

  private byOrdinal(ordinal: number): LiveSocket | undefined {
    for (const s of this.sockets) if (s.ordinal === ordinal) return s;
    return undefined;
  }

  private send(s: LiveSocket, payload: string | Buffer, binary: boolean): void {
    if (s.ws.readyState !== WebSocket.OPEN) return;
    s.tap.send(payload, binary);
    if (!binary && typeof payload === 'string')
      this.logger.debug({ session: this.session.n, socket: s.ordinal, bytes: payload.length }, 'frame sent');
  }
}
