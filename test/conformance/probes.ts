// What the conformance suite watches, without changing what the official client does: the client's own
// injectable services (botframework-directlinejs 0.15.8, lib/directLine.js makeServices(): `WebSocket`,
// `ajax`, `scheduler`, `random`) are given thin wrappers around the real implementations.
//
//  * WebSocket — the `ws` class (the same one installed as the global), with every socket logged: its URL,
//    open/close, the frames the client sent (DirectLineJS's '' pings) and received (keep-alives, sets).
//  * ajax      — rxjs 5's own Observable.ajax, with every request logged (method, url, route, bearer,
//    x-ms-bot-agent, status).
//  * scheduler — rxjs 5's async scheduler, except that a delay of 15 minutes or more (only the token refresh
//    interval: Observable.interval(intervalRefreshToken, scheduler) in refreshTokenLoop()) is shortened.
//    Every other delay the client schedules (XHR timeout retries, the ping interval, the 3–15 s reconnect
//    delay, zero-delay emissions) is untouched. The refresh itself is the client's own code path.
import { createRequire } from 'node:module';
import WebSocket from 'ws';
import { matchRoute, stripBase } from '../../src/protocol/routes.js';
import type { AsyncAction as AsyncActionType } from 'rxjs/scheduler/AsyncAction.js';
import type { AsyncScheduler as AsyncSchedulerType } from 'rxjs/scheduler/AsyncScheduler.js';

// rxjs 5 exactly as botframework-directlinejs resolves it (its own dependency, not one of ours).
const fromDirectLine = createRequire(createRequire(import.meta.url).resolve('botframework-directlinejs'));
const { AsyncAction } = fromDirectLine('rxjs/scheduler/AsyncAction.js') as { AsyncAction: typeof AsyncActionType };
const { AsyncScheduler } = fromDirectLine('rxjs/scheduler/AsyncScheduler.js') as { AsyncScheduler: typeof AsyncSchedulerType };
// Observable.ajax and the `do` operator are patched onto rxjs 5's Observable by lib/directLine.js itself
// (require('rxjs/add/observable/dom/ajax'), require('rxjs/add/operator/do')); it is loaded before any probe runs.
const { Observable } = fromDirectLine('rxjs/Observable') as { Observable: RxObservableStatic };

interface RxObservable {
  do(next: (v: any) => void, error: (e: any) => void): RxObservable;
}
interface RxObservableStatic {
  ajax?: (request: AjaxRequest) => RxObservable;
}
interface AjaxRequest {
  method?: string;
  url?: string;
  headers?: Record<string, string>;
  body?: unknown;
}

/** lib/directLine.js: `intervalRefreshToken = lifetimeRefreshToken / 2` = 15 minutes. */
export const CLIENT_REFRESH_INTERVAL_MS = 15 * 60 * 1000;

/**
 * An rxjs 5 async scheduler on which every delay ≥ 15 min lasts `warpedMs` instead; repeats of a periodic
 * action (the interval re-schedules itself with its period) are shortened the same way.
 */
export function refreshWarpScheduler(warpedMs: number): AsyncSchedulerType {
  class WarpedAction<T> extends AsyncAction<T> {
    override schedule(state?: T, delay = 0) {
      return super.schedule(state, delay >= CLIENT_REFRESH_INTERVAL_MS ? warpedMs : delay);
    }
  }
  return new AsyncScheduler(WarpedAction as unknown as typeof AsyncActionType);
}

export interface SocketLog {
  /** 1-based, in creation order. */
  n: number;
  url: string;
  createdAt: number;
  openedAt?: number;
  closed?: { code: number; reason: string; at: number };
  /** Empty text frames the client sent (DirectLineJS pings, reference §2.3). */
  pings: number;
  pingTimes: number[];
  /** Any other frame the client sent (classic Direct Line 3.0 accepts none). */
  otherSent: number;
  /** Empty/whitespace frames from the server (keep-alives). */
  keepAlives: number;
  /** ActivitySet frames from the server and the last non-empty watermark among them. */
  sets: number;
  lastWatermark?: string;
}

export interface RequestLog {
  method: string;
  url: string;
  /** Direct Line route (src/protocol/routes.ts), 'other' outside the domain. */
  route: string;
  /** The bearer sent, or undefined. */
  bearer?: string;
  botAgent?: string;
  status?: number;
  /** When the request was made, and when its answer (or error) arrived. */
  at: number;
  doneAt?: number;
}

/** The services object handed to `new DirectLine({...})`, with the logs they fill. */
export class ClientProbe {
  readonly sockets: SocketLog[] = [];
  readonly requests: RequestLog[] = [];
  private readonly listeners = new Set<() => void>();

  constructor(private readonly domain: string) {}

  /** DirectLineJS does `new services.WebSocket(streamUrl)` and uses onopen/onclose/onmessage/send/close. */
  readonly WebSocket = ((probe: ClientProbe) =>
    function ProbedWebSocket(url: string) {
      const log: SocketLog = {
        n: probe.sockets.length + 1,
        url,
        createdAt: Date.now(),
        pings: 0,
        pingTimes: [],
        otherSent: 0,
        keepAlives: 0,
        sets: 0,
      };
      probe.sockets.push(log);
      const ws = new WebSocket(url);
      const send = ws.send.bind(ws) as (data: unknown, ...rest: unknown[]) => void;
      (ws as unknown as { send: (data: unknown, ...rest: unknown[]) => void }).send = (data, ...rest) => {
        if (data === '') {
          log.pings++;
          log.pingTimes.push(Date.now());
        } else log.otherSent++;
        probe.notify();
        send(data, ...rest);
      };
      ws.on('open', () => {
        log.openedAt = Date.now();
        probe.notify();
      });
      ws.on('message', (data) => {
        const text = data.toString();
        if (text.trim() === '') log.keepAlives++;
        else {
          log.sets++;
          try {
            const wm = (JSON.parse(text) as { watermark?: unknown }).watermark;
            if (typeof wm === 'string' && wm !== '') log.lastWatermark = wm;
          } catch {
            /* the client would throw on it; counted as a set anyway */
          }
        }
        probe.notify();
      });
      ws.on('close', (code, reason) => {
        log.closed = { code, reason: reason.toString(), at: Date.now() };
        probe.notify();
      });
      return ws;
    })(this) as unknown as typeof globalThis.WebSocket;

  /** rxjs 5's Observable.ajax, logged. */
  readonly ajax = (request: AjaxRequest): RxObservable => {
    const headers = request.headers ?? {};
    const auth = /^Bearer (.*)$/.exec(headers.Authorization ?? headers.authorization ?? '');
    let route = 'other';
    const url = request.url ?? '';
    if (url.startsWith(this.domain)) {
      const u = new URL(url);
      const base = new URL(this.domain).pathname;
      const sub = stripBase(u.pathname, base);
      if (sub !== null) route = matchRoute(request.method ?? 'GET', sub).route;
    }
    const log: RequestLog = {
      method: request.method ?? 'GET',
      url,
      route,
      bearer: auth?.[1],
      botAgent: headers['x-ms-bot-agent'],
      at: Date.now(),
    };
    this.requests.push(log);
    this.notify();
    if (!Observable.ajax) throw new Error('Observable.ajax is missing: load botframework-directlinejs first');
    return Observable.ajax(request).do(
      (res: { status: number }) => {
        log.status = res.status;
        log.doneAt = Date.now();
        this.notify();
      },
      (err: { status?: number }) => {
        log.status = err.status ?? 0;
        log.doneAt = Date.now();
        this.notify();
      },
    );
  };

  /** Requests of one route, in order. */
  of(route: string): RequestLog[] {
    return this.requests.filter((r) => r.route === route);
  }

  /** Resolves once `check` returns a value (checked on every logged event and every 50 ms). */
  waitFor<T>(check: () => T | undefined | false, what: string, timeoutMs = 5000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const done = (): void => {
        const v = check();
        if (v === undefined || v === false) return;
        cleanup();
        resolve(v);
      };
      const poll = setInterval(done, 50);
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${what}; sockets ${JSON.stringify(this.sockets.map(describeSocket))}, ` +
              `requests ${JSON.stringify(this.requests.slice(-8).map((r) => `${r.method} ${r.route} ${r.status ?? '…'}`))}`,
          ),
        );
      }, timeoutMs);
      const cleanup = (): void => {
        clearInterval(poll);
        clearTimeout(timer);
        this.listeners.delete(done);
      };
      this.listeners.add(done);
      done();
    });
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }
}

function describeSocket(s: SocketLog): string {
  return (
    `#${s.n} ${s.openedAt ? 'open' : 'connecting'}${s.closed ? ` closed ${s.closed.code}` : ''} pings ${s.pings} sets ${s.sets} ` +
    `keepalives ${s.keepAlives}`
  );
}
