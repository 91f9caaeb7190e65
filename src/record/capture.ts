// Turns what the proxy saw into cassette events: redacts them and hands them to the writer. The capture worker
// (capture-worker.ts) runs it, fed by the relay thread (capture-client.ts), which stamps each event's time `t`.
import type { RouteName } from '../protocol/routes.js';
import type { IncomingHttpHeaders } from 'node:http';
import type { CassetteWriter } from '../cassette/store.js';
import type { Redactor } from '../cassette/redact.js';
import { isHopByHop } from '../net/headers.js';
import type { Body, CassetteEvent, FaultNote, FrameData, HttpResponse } from '../cassette/schema.js';
import { CaptureTap } from './capture-tap.js';

// Request headers worth keeping: they say what the client asked for. Host, cookies and hop-by-hop
// headers are noise or secrets (docs/protocol.md#recorder).
const REQUEST_HEADERS = new Set([
  'authorization',
  'content-type',
  'accept',
  'x-ms-bot-agent',
  'x-requested-with',
  'origin',
  'content-disposition',
  'user-agent',
]);
// Response headers not kept besides the hop-by-hop ones: the body is stored decoded; dates and cookies are noise.
const RESPONSE_DROP = new Set(['content-encoding', 'date', 'set-cookie']);

export function pickRequestHeaders(h: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(h).sort()) {
    if (!REQUEST_HEADERS.has(name)) continue;
    const v = h[name];
    if (v !== undefined) out[name] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

export function pickResponseHeaders(h: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(h).sort()) {
    if (isHopByHop(name) || RESPONSE_DROP.has(name)) continue;
    const v = h[name];
    if (v !== undefined) out[name] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

export function queryOf(search: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  // defineProperty, not assignment: a parameter named __proto__ is data, not a prototype.
  for (const [k, v] of search)
    if (!Object.hasOwn(out, k)) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
}

/** One HTTP exchange as captured; the bodies' form (B, R) differs on each side of the capture worker. */
export interface HttpCaptureOf<B, R> {
  t: number;
  conversationId: string | null;
  route: RouteName;
  method: string;
  path: string;
  query: Record<string, string>;
  requestHeaders: Record<string, string>;
  requestBody: B;
  response: R | null;
  error?: { code: string; message: string };
  duration: number;
  /** The client got an injected fault here (src/faults/). */
  fault?: FaultNote;
}

export type HttpCapture = HttpCaptureOf<Body, HttpResponse>;

export class Capture {
  readonly redactor: Redactor;
  /** Every event as it is handed to the writer (the live inspector listens). */
  readonly tap = new CaptureTap();
  private socketCount = 0;
  private placeholderCount = 0;

  /**
   * @param onError called when an event cannot be captured; the proxy keeps relaying either way, so a
   *   hostile or odd message never takes the recorder down.
   */
  constructor(
    readonly writer: CassetteWriter,
    redactor: Redactor,
    private readonly onError: (err: Error, what: string) => void = () => {},
  ) {
    this.redactor = redactor;
    this.socketCount = writer.data.events.reduce((n, e) => ('socket' in e ? Math.max(n, e.socket + 1) : n), 0);
  }

  now(): number {
    return this.writer.now();
  }

  /**
   * An HTTP exchange stamped `t` (its request's arrival, from now()) is in flight and will be captured
   * with http() once answered: until the returned function is called, the cassette writer keeps every
   * event stamped at or after `t` off the disk, so the exchange is inserted before them without a full
   * rewrite of the file (CassetteWriter.hold). Call the returned function right after http() and on every
   * path where the exchange is not captured (an aborted request); extra calls do nothing.
   */
  hold(t: number): () => void {
    return this.writer.hold(t);
  }

  nextSocket(): number {
    return this.socketCount++;
  }

  http(c: HttpCapture): CassetteEvent | null {
    return this.guard('http exchange', () => this.httpEvent(c));
  }

  private httpEvent(c: HttpCapture): CassetteEvent {
    const r = this.redactor;
    const ev = this.append({
      type: 'http',
      t: c.t,
      conversationId: c.conversationId,
      route: c.route,
      request: {
        method: c.method,
        path: c.path,
        query: r.query(c.query),
        headers: r.headers(c.requestHeaders),
        body: r.body(c.requestBody),
      },
      response: c.response ? { status: c.response.status, headers: r.headers(c.response.headers), body: r.body(c.response.body) } : null,
      ...(c.error ? { error: c.error } : {}),
      duration: c.duration,
      ...(c.fault ? { fault: c.fault } : {}),
    });
    this.syncPlaceholders();
    return ev;
  }

  wsOpen(
    t: number,
    socket: number,
    conversationId: string | null,
    path: string,
    query: Record<string, string>,
    status: number,
    response?: HttpResponse,
    fault?: FaultNote,
  ): void {
    this.guard('stream open', () => this.wsOpenEvent(t, socket, conversationId, path, query, status, response, fault));
  }

  private wsOpenEvent(
    t: number,
    socket: number,
    conversationId: string | null,
    path: string,
    query: Record<string, string>,
    status: number,
    response?: HttpResponse,
    fault?: FaultNote,
  ): void {
    const r = this.redactor;
    this.append({
      type: 'ws.open',
      t,
      conversationId,
      socket,
      path,
      query: r.query(query),
      status,
      ...(response ? { response: { status: response.status, headers: r.headers(response.headers), body: r.body(response.body) } } : {}),
      ...(fault ? { fault } : {}),
    });
    this.syncPlaceholders();
  }

  wsMessage(t: number, socket: number, conversationId: string | null, from: 'server' | 'client', data: FrameData): void {
    this.guard('stream frame', () => {
      this.append({ type: 'ws.message', t, conversationId, socket, from, data: this.redactor.frame(data) });
      this.syncPlaceholders();
    });
  }

  wsClose(
    t: number,
    socket: number,
    conversationId: string | null,
    by: 'server' | 'client' | 'proxy',
    code: number,
    reason: string,
    fault?: FaultNote,
  ): void {
    this.guard('stream close', () => {
      const reasonText = this.redactor.text(reason);
      const note = fault ? { fault } : {};
      this.append({ type: 'ws.close', t, conversationId, socket, by, code, reason: reasonText, ...note });
    });
  }

  private append(event: CassetteEvent): CassetteEvent {
    const ev = this.writer.append(event);
    this.tap.emit(ev, this.redactor.placeholders);
    return ev;
  }

  private guard<T>(what: string, fn: () => T): T | null {
    try {
      return fn();
    } catch (err) {
      this.onError(err as Error, what);
      return null;
    }
  }

  private syncPlaceholders(): void {
    const n = this.redactor.size;
    if (n !== this.placeholderCount) {
      this.placeholderCount = n;
      this.writer.setPlaceholders({ ...this.redactor.placeholders });
    }
  }
}
