// Fault rules as people write them: `<fault>[@<when>,<when>...]`, e.g. `drop-stream@frame=3` or
// `status=429@route=activities.post,nth=2`. Parsing checks everything (fault names, routes, numbers, which
// conditions a fault takes) so a bad rule fails with its text and what is allowed, before any server starts.
import { Route, type RouteName } from '../protocol/routes.js';

/** Routes an HTTP fault can target (the stream is reached with `@frames` / the stream faults). */
export const FAULT_ROUTES = [
  Route.tokensGenerate,
  Route.tokensRefresh,
  Route.conversationsStart,
  Route.conversationsReconnect,
  Route.activitiesPost,
  Route.activitiesGet,
  Route.upload,
  Route.sessionGetSessionId,
] as const satisfies readonly RouteName[];
export type FaultRoute = (typeof FAULT_ROUTES)[number];

export type FaultRule =
  | { kind: 'drop-stream'; text: string; frame: number; socket: number }
  | { kind: 'close-stream'; text: string; code: number; afterMs: number; socket: number }
  | { kind: 'refuse-stream'; text: string; status: number; open: number }
  | { kind: 'status'; text: string; status: number; route: FaultRoute; nth: number | null }
  | { kind: 'expire-token'; text: string; afterMs: number | null; request: number | null }
  | { kind: 'latency'; text: string; ms: number; jitterMs: number; route: FaultRoute | null }
  | { kind: 'conversation-gone'; text: string; afterMs: number | null; request: number | null };

export type FaultKind = FaultRule['kind'];

/** One line per fault: the syntax, as errors and --help show it. */
export const FAULT_SYNTAX: Record<FaultKind, string> = {
  'drop-stream': 'drop-stream@frame=N[,socket=K]  (after the N-th server frame, the stream drops: 1006, no close frame)',
  'close-stream': 'close-stream=CODE@after=Dms|Ds[,socket=K]  (the stream is closed with CODE that long after it opened)',
  'refuse-stream': 'refuse-stream[=STATUS]@open=N  (the N-th stream upgrade of a conversation is refused, 403 by default)',
  status:
    "status=CODE@route=ROUTE[,nth=N]  (a 4xx/5xx with the service's body instead of the answer; every such request, or only the N-th)",
  'expire-token':
    "expire-token@after=D|request=N  (from then on the conversation's token is refused with 403; tokens/refresh before that extends it)",
  latency: "latency=Dms[±Jms]@route=ROUTE|frames  (added delay on that route's responses or on every stream frame, jitter seeded)",
  'conversation-gone': 'conversation-gone@request=N|after=D  (from then on 404 for the conversation, streams included)',
};

export class FaultRuleError extends Error {
  constructor(
    readonly rule: string,
    readonly problem: string,
  ) {
    super(`fault rule "${rule}": ${problem}`);
    this.name = 'FaultRuleError';
  }
}

const allowedFaults = () =>
  `allowed: ${Object.values(FAULT_SYNTAX)
    .map((s) => s.split('  ')[0])
    .join(' | ')}`;

/** Parses one rule; every problem is a FaultRuleError naming the rule and what is allowed. */
export function parseFaultRule(input: string): FaultRule {
  if (typeof input !== 'string') throw new FaultRuleError(String(input), 'a rule is a string such as "drop-stream@frame=3"');
  const text = input.trim();
  const fail = (problem: string): never => {
    throw new FaultRuleError(text, problem);
  };
  if (text === '') fail(`empty rule; ${allowedFaults()}`);
  const at = text.indexOf('@');
  const head = at < 0 ? text : text.slice(0, at);
  const tail = at < 0 ? '' : text.slice(at + 1);
  const eq = head.indexOf('=');
  const name = (eq < 0 ? head : head.slice(0, eq)).trim();
  const value = eq < 0 ? null : head.slice(eq + 1).trim();
  if (!(name in FAULT_SYNTAX)) fail(`unknown fault "${name}"; ${allowedFaults()}`);
  const kind = name as FaultKind;
  const syntax = FAULT_SYNTAX[kind].split('  ')[0];
  const when = parseConditions(tail, fail);
  const allow = (...keys: string[]) => {
    for (const k of when.keys()) if (!keys.includes(k)) fail(`"${k}" does not apply to ${kind}; write ${syntax}`);
  };
  const need = (key: string): string => when.get(key) ?? fail(`${kind} needs @${key}=…; write ${syntax}`);
  const noValue = () => {
    if (value !== null) fail(`${kind} takes no "=${value}"; write ${syntax}`);
  };
  const oneOf = (a: string, b: string) => {
    if (when.has(a) === when.has(b)) fail(`${kind} needs exactly one of @${a}=… and @${b}=…; write ${syntax}`);
  };
  const count = (key: string, dflt?: number): number => {
    const raw = when.get(key);
    if (raw === undefined) return dflt ?? fail(`${kind} needs @${key}=…; write ${syntax}`);
    return positiveInt(raw, key, fail);
  };

  switch (kind) {
    case 'drop-stream':
      noValue();
      allow('frame', 'socket');
      return { kind, text, frame: count('frame'), socket: count('socket', 1) };
    case 'close-stream': {
      allow('after', 'socket');
      if (value === null) fail(`close-stream needs a close code, e.g. close-stream=1011; write ${syntax}`);
      const code = integer(value!, 'close code', fail);
      const sendable = (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005) || (code >= 3000 && code <= 4999);
      if (!sendable)
        fail(`close code ${code} cannot be used: 1000-1014 (not 1004 or 1005; 1006 = dropped without a close frame) or 3000-4999`);
      return { kind, text, code, afterMs: duration(need('after'), 'after', fail), socket: count('socket', 1) };
    }
    case 'refuse-stream': {
      allow('open');
      const status = value === null ? 403 : httpError(value, fail);
      return { kind, text, status, open: count('open', 1) };
    }
    case 'status': {
      allow('route', 'nth');
      if (value === null) fail(`status needs a code, e.g. status=429; write ${syntax}`);
      return { kind, text, status: httpError(value!, fail), route: route(need('route'), fail), nth: when.has('nth') ? count('nth') : null };
    }
    case 'expire-token':
    case 'conversation-gone':
      noValue();
      allow('after', 'request');
      oneOf('after', 'request');
      return {
        kind,
        text,
        afterMs: when.has('after') ? duration(when.get('after')!, 'after', fail) : null,
        request: when.has('request') ? count('request') : null,
      };
    case 'latency': {
      allow('route', 'frames');
      oneOf('route', 'frames');
      if (value === null) fail(`latency needs a delay, e.g. latency=800ms or latency=800ms±200ms; write ${syntax}`);
      const [base, jitter] = value!.split(/±|\+-|\+\/-/);
      const ms = duration(base!, 'latency', fail);
      const jitterMs = jitter === undefined ? 0 : duration(jitter, 'jitter', fail);
      if (when.has('frames') && when.get('frames') !== '') fail(`"frames" takes no value; write ${syntax}`);
      return { kind, text, ms, jitterMs, route: when.has('route') ? route(when.get('route')!, fail) : null };
    }
  }
}

/** Parses every rule; the first bad one throws. */
export function parseFaultRules(rules: readonly (string | FaultRule)[]): FaultRule[] {
  return rules.map((r) => (typeof r === 'string' ? parseFaultRule(r) : parseFaultRule(r.text)));
}

function parseConditions(tail: string, fail: (p: string) => never): Map<string, string> {
  const out = new Map<string, string>();
  if (tail.trim() === '') return out;
  for (const part of tail.split(',')) {
    const p = part.trim();
    if (p === '') fail('an empty condition (two commas, or a trailing comma)');
    const eq = p.indexOf('=');
    const key = (eq < 0 ? p : p.slice(0, eq)).trim();
    const val = eq < 0 ? '' : p.slice(eq + 1).trim();
    if (!['frame', 'socket', 'after', 'open', 'route', 'nth', 'request', 'frames'].includes(key)) {
      fail(`unknown condition "${key}"; conditions are frame=N, socket=K, after=D, open=N, route=ROUTE, nth=N, request=N, frames`);
    }
    if (out.has(key)) fail(`"${key}" is given twice`);
    if (eq < 0 && key !== 'frames') fail(`"${key}" needs a value (${key}=…)`);
    out.set(key, val);
  }
  return out;
}

function integer(raw: string, what: string, fail: (p: string) => never): number {
  if (!/^\d+$/.test(raw)) fail(`${what} "${raw}" is not a whole number`);
  return Number(raw);
}

function positiveInt(raw: string, key: string, fail: (p: string) => never): number {
  const n = integer(raw, key, fail);
  if (n < 1 || n > 1_000_000_000) fail(`${key}=${raw} must be a whole number from 1 (the first)`);
  return n;
}

function httpError(raw: string, fail: (p: string) => never): number {
  const n = integer(raw, 'status', fail);
  if (n < 400 || n > 599) fail(`status ${raw} is not an error status (400-599)`);
  return n;
}

/** `2000ms`, `30s`, `1.5s`; a bare number is refused (is it ms or s?). */
function duration(raw: string, what: string, fail: (p: string) => never): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(raw.trim());
  if (!m) fail(`${what} "${raw}" is not a duration: write it with its unit, e.g. 800ms or 30s`);
  const ms = Number(m![1]) * (m![2] === 's' ? 1000 : 1);
  if (ms > 24 * 3600_000) fail(`${what} "${raw}" is longer than a day`);
  return Math.round(ms);
}

function route(raw: string, fail: (p: string) => never): FaultRoute {
  if (!(FAULT_ROUTES as readonly string[]).includes(raw))
    fail(`unknown route "${raw}"; routes: ${FAULT_ROUTES.join(', ')} (stream frames: latency=…@frames)`);
  return raw as FaultRoute;
}
