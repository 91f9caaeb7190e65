// Runs the official client (botframework-directlinejs 0.15.8) in Node 20 for tests.
//
// What it needs (reference §4.6, checked against node_modules/botframework-directlinejs/lib/directLine.js):
// * a global XMLHttpRequest: rxjs 5's Observable.ajax does `new root.XMLHttpRequest()` → xhr2;
// * a global WebSocket, even in polling mode: makeServices() evaluates `services.WebSocket || WebSocket`
//   and the WS-mode check is `typeof WebSocket !== 'undefined'` at construction time → ws.
// Both are installed once, before the first DirectLine is constructed.
//
// Stopping: end() unsubscribes the 15-min token refresh timer and pushes status Ended; activity$ then
// errors with "conversation ended", which disposes the socket subscription (ws.close(), ping interval
// cleared on close) and stops polling after at most one pollingInterval timer. rxjs 5 rethrows errors of
// subscribers without an error handler (here: an uncaught exception from a scheduler timer), so every client
// made here has a recorder subscription that captures activities, statuses and errors.
import { createRequire } from 'node:module';
import { DirectLine, ConnectionStatus } from 'botframework-directlinejs';
import WebSocket from 'ws';

export { DirectLine, ConnectionStatus };

const require = createRequire(import.meta.url);

/** Installs global XMLHttpRequest (xhr2) and WebSocket (ws) if missing; idempotent. */
export function installDirectLineGlobals(): void {
  const g = globalThis as Record<string, unknown>;
  // xhr2 ships no types; it is a CommonJS class.
  if (typeof g.XMLHttpRequest === 'undefined') g.XMLHttpRequest = require('xhr2') as unknown;
  // Node 20 has no global WebSocket; a runtime that has one (Node ≥ 22) keeps its own.
  if (typeof g.WebSocket === 'undefined') g.WebSocket = WebSocket;
}

/**
 * An rxjs 5 scheduler (the one DirectLineJS uses) on which every timer of `fromMs` or longer fires after `toMs`
 * instead: the client's 15-minute token refresh interval (an Observable.interval on its scheduler) becomes a few
 * hundred milliseconds, while its 20 s timeouts and ping interval stay as they are.
 */
export function timeLapseScheduler(fromMs: number, toMs: number): unknown {
  const { AsyncAction } = require('rxjs/scheduler/AsyncAction') as { AsyncAction: any };
  const { AsyncScheduler } = require('rxjs/scheduler/AsyncScheduler') as { AsyncScheduler: any };
  class TimeLapseAction extends AsyncAction {
    requestAsyncId(scheduler: unknown, id: unknown, delay: number): unknown {
      return super.requestAsyncId(scheduler, id, delay >= fromMs ? toMs : delay);
    }
  }
  return new AsyncScheduler(TimeLapseAction);
}

export interface CreateDirectLineOptions {
  domain: string;
  secret?: string;
  token?: string;
  webSocket?: boolean;
  /** ≥ 200, smaller values make the library fall back to 1000 ms. */
  pollingInterval?: number;
  /** XHR timeout, retry delay and WS ping interval of the client (default 20 000). */
  timeout?: number;
  conversationId?: string;
  watermark?: string;
  streamUrl?: string;
  botAgent?: string;
  /** Injected into the client's services; e.g. `() => 0` makes the socket-reconnect delay its minimum, 3 s. */
  random?: () => number;
  /** Subscribe to activity$ right away, which starts the conversation (default true). */
  connect?: boolean;
  /** The client's rxjs scheduler (an injectable service), e.g. timeLapseScheduler() for its 15-min token refresh. */
  scheduler?: unknown;
  /** The client's ajax service, e.g. timedAjax() to measure each request's round trip. */
  ajax?: unknown;
}

/** rxjs 5's Observable.ajax (what DirectLineJS uses), timing each request: `log` gets method, url and ms from send to answer. */
export function timedAjax(log: Array<{ method: string; url: string; ms: number }>): unknown {
  const { Observable } = require('rxjs/Observable') as { Observable: any };
  const ajax = (req: { method?: string; url: string }) => {
    const sent = performance.now();
    return Observable.ajax(req).map((res: unknown) => {
      log.push({ method: req.method ?? 'GET', url: req.url, ms: performance.now() - sent });
      return res;
    });
  };
  return ajax;
}

interface Recorder {
  activities: any[];
  /** performance.now() when each activity reached activity$ (same index as activities). */
  times: number[];
  statuses: number[];
  errors: unknown[];
  listeners: Set<() => void>;
  subscription?: { unsubscribe(): void };
  statusSubscription?: { unsubscribe(): void };
}

const recorders = new WeakMap<DirectLine, Recorder>();

function recorderOf(dl: DirectLine): Recorder {
  const r = recorders.get(dl);
  if (!r) throw new Error('DirectLine was not created by createDirectLine()');
  return r;
}

export function createDirectLine(opts: CreateDirectLineOptions): DirectLine {
  installDirectLineGlobals();
  const { connect = true, ...options } = opts;
  // scheduler/ajax are the client's injectable services, passed through as given.
  const dl = new DirectLine(options as ConstructorParameters<typeof DirectLine>[0]);
  const recorder: Recorder = {
    activities: [],
    times: [],
    statuses: [],
    errors: [],
    listeners: new Set(),
  };
  recorders.set(dl, recorder);
  // connectionStatus$ is a BehaviorSubject (emits the current status synchronously); subscribing to it
  // does not start the connection.
  recorder.statusSubscription = dl.connectionStatus$.subscribe((s) => {
    recorder.statuses.push(s);
    notify(recorder);
  });
  if (connect) startDirectLine(dl);
  return dl;
}

/** Subscribes the recorder to activity$ (the first activity$ subscription starts the conversation). */
export function startDirectLine(dl: DirectLine): void {
  const r = recorderOf(dl);
  if (r.subscription) return;
  r.subscription = dl.activity$.subscribe(
    (activity) => {
      r.times.push(performance.now());
      r.activities.push(activity);
      notify(r);
    },
    (err: unknown) => {
      r.errors.push(err);
      notify(r);
    },
  );
}

function notify(r: Recorder): void {
  for (const l of [...r.listeners]) l();
}

/** Every activity seen on activity$ since creation. */
export function activitiesOf(dl: DirectLine): any[] {
  return recorderOf(dl).activities;
}

/** performance.now() when each activity of activitiesOf() was emitted, index for index. */
export function activityTimesOf(dl: DirectLine): number[] {
  return recorderOf(dl).times;
}

/** Connection statuses seen (numbers of ConnectionStatus: 0 Uninitialized … 5 Ended). */
export function statusLog(dl: DirectLine): number[] {
  return recorderOf(dl).statuses;
}

/** Errors activity$ emitted (e.g. "conversation ended" after end()). */
export function errorsOf(dl: DirectLine): unknown[] {
  return recorderOf(dl).errors;
}

function waitFor<T>(dl: DirectLine, check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const r = recorderOf(dl);
  return new Promise<T>((resolve, reject) => {
    const done = (): boolean => {
      const value = check();
      if (value === undefined) return false;
      cleanup();
      resolve(value);
      return true;
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(
        new Error(
          `timed out after ${timeoutMs} ms waiting for ${what}; statuses ${JSON.stringify(r.statuses)}, ` +
            `activities ${JSON.stringify(r.activities.map((a) => `${a.type}:${a.text ?? ''}`))}`,
        ),
      );
    }, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      r.listeners.delete(listener);
    };
    const listener = (): void => {
      done();
    };
    r.listeners.add(listener);
    done();
  });
}

/** Resolves with every activity seen so far once `predicate` holds for it (starts the client if needed). */
export function waitForActivities(dl: DirectLine, predicate: (activities: any[]) => boolean, timeoutMs = 5000): Promise<any[]> {
  startDirectLine(dl);
  const r = recorderOf(dl);
  return waitFor(dl, () => (predicate(r.activities) ? [...r.activities] : undefined), timeoutMs, 'activities');
}

/** Resolves once the client has reported `status`. */
export function waitForStatus(dl: DirectLine, status: ConnectionStatus, timeoutMs = 5000): Promise<void> {
  const r = recorderOf(dl);
  return waitFor(dl, () => (r.statuses.includes(status) ? true : undefined), timeoutMs, `status ${status}`).then(() => undefined);
}

/** Posts and resolves with what postActivity emits (the activity id, or "retry" on 403/5xx). */
export function postAndWait(dl: DirectLine, activity: any): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const sub = dl.postActivity(activity).subscribe(
      (id) => {
        resolve(id);
        // The observable emits once; unsubscribe so nothing lingers.
        setImmediate(() => sub?.unsubscribe());
      },
      (err: unknown) => reject(err),
    );
  });
}

/** Ends the client and drops the recorder's subscriptions, so no timer or socket keeps the process alive. */
export function endDirectLine(dl: DirectLine): void {
  const r = recorderOf(dl);
  dl.end();
  r.subscription?.unsubscribe();
  r.statusSubscription?.unsubscribe();
}
