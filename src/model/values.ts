// What a stored body or frame means, read once for every reader: its JSON, the ActivitySet it delivers,
// the activity a request posted, the id a send got back, whether a frame is a keep-alive.
import type { Body, CassetteEvent, FrameData, HttpEvent, WsMessageEvent } from '../cassette/schema.js';
import { routePolicy, Route } from '../protocol/routes.js';
import { isActivitySet, type Activity, type ActivitySet } from '../protocol/types.js';

/**
 * The JSON value of a stored body: `{json}` as stored, and `{text}` that parses as an object or array
 * (JSON kept as text because it nested too deep, or a hand-made cassette). Undefined otherwise.
 */
export function bodyJson(body: Body | FrameData | undefined): unknown {
  if (!body) return undefined;
  if ('json' in body) return body.json;
  if ('text' in body) {
    const first = body.text.trimStart()[0];
    if (first === '{' || first === '[') {
      try {
        return JSON.parse(body.text);
      } catch {
        /* not JSON */
      }
    }
  }
  return undefined;
}

function objectOf(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** The ActivitySet an event delivers to the client: a server stream frame, or a poll's (or any) response. */
export function deliveredSet(e: CassetteEvent): ActivitySet | null {
  if (e.type === 'ws.message') {
    if (e.from !== 'server') return null;
    const json = bodyJson(e.data);
    return isActivitySet(json) ? json : null;
  }
  if (e.type === 'http' && e.response) {
    const json = bodyJson(e.response.body);
    return isActivitySet(json) ? json : null;
  }
  return null;
}

/** The activity an activities.post request carried, when its body is a JSON object. */
export function postedActivity(e: HttpEvent): Activity | null {
  if (e.route !== Route.activitiesPost) return null;
  return (objectOf(bodyJson(e.request.body)) as Activity | undefined) ?? null;
}

/** The activity id a send (activities.post, upload) got back: the response's `{"id": …}`. */
export function echoIdOf(e: HttpEvent): string | null {
  if (!routePolicy(e.route).send) return null;
  const id = objectOf(bodyJson(e.response?.body ?? null))?.id;
  return typeof id === 'string' && id !== '' ? id : null;
}

/** An empty (whitespace-only) text frame: the service's keep-alive, or a client's ping. */
export function isBlankFrame(e: WsMessageEvent): boolean {
  return 'text' in e.data && !('json' in e.data) && e.data.text.trim() === '';
}

/** A keep-alive: a blank frame from the server. */
export function isKeepAlive(e: CassetteEvent): boolean {
  return e.type === 'ws.message' && e.from === 'server' && isBlankFrame(e);
}

/** Watermarks are opaque strings; numbers (offline-directline) are stringified; empty/null mean none. */
export function watermarkString(w: unknown): string | undefined {
  if (typeof w === 'string') return w === '' ? undefined : w;
  if (typeof w === 'number' && Number.isFinite(w)) return String(w);
  return undefined;
}

/** A property read case-insensitively: the service accepts `User`/`user` in start bodies (docs/protocol.md#start). */
export function getCI(obj: unknown, key: string): unknown {
  const rec = objectOf(obj);
  if (!rec) return undefined;
  if (Object.hasOwn(rec, key)) return rec[key];
  const lower = key.toLowerCase();
  for (const k of Object.keys(rec)) if (k.toLowerCase() === lower) return rec[k];
  return undefined;
}

/** `user.id` of a tokens.generate / conversations.start body. */
export function userIdOfStartBody(body: unknown): string | undefined {
  return nonEmptyString(getCI(getCI(body, 'user'), 'id'));
}

/** The conversation id a response body names (tokens.generate fixes the conversation it will start). */
export function conversationIdInBody(body: Body): string | null {
  return nonEmptyString(objectOf(bodyJson(body))?.conversationId) ?? null;
}

export function nonEmptyString(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
