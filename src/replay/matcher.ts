// Decides whether a live request is the recorded one it is matched against, and describes both for
// mismatch errors. Only what the client chose matters: for a posted activity its type and text (and the
// event name), for an upload the files' names/content types and the activity part; tokens, ids, timestamps,
// channelData and watermarks are ignored.
import type { HttpEvent } from '../cassette/schema.js';
import { decodeBody } from '../cassette/body.js';
import type { Activity } from '../protocol/types.js';
import { routePolicy, type RouteName } from '../protocol/routes.js';
import { dispositionParam, findBoundary, isMultipart, parseMultipart } from './multipart.js';

export interface ActivitySummary {
  type: string;
  text: string;
  name?: string;
  attachments?: number;
}

export interface FileSummary {
  name: string | undefined;
  contentType: string | undefined;
}

/** What a request carries that matching looks at, plus the live activity itself (for the echo). */
export interface RequestShape {
  activity?: Activity;
  summary?: ActivitySummary;
  files?: FileSummary[];
}

export function summarizeActivity(a: Activity): ActivitySummary {
  const s: ActivitySummary = { type: typeof a.type === 'string' ? a.type : 'message', text: typeof a.text === 'string' ? a.text : '' };
  if (typeof a.name === 'string') s.name = a.name;
  if (Array.isArray(a.attachments) && a.attachments.length) s.attachments = a.attachments.length;
  return s;
}

/** Reads the parts of a request that matching needs. */
export function shapeOf(route: RouteName, body: Buffer, contentType: string | undefined, contentDisposition?: string): RequestShape {
  const match = routePolicy(route).match;
  if (match === 'activity') {
    const activity = parseJsonObject(body);
    return activity ? { activity, summary: summarizeActivity(activity) } : {};
  }
  if (match === 'filesAndActivity') {
    if (isMultipart(contentType, body)) {
      const boundary = findBoundary(contentType, body);
      const parts = boundary ? parseMultipart(body, boundary) : [];
      const shape: RequestShape = { files: [] };
      for (const p of parts) {
        const type = baseType(p.contentType);
        if (type === 'application/vnd.microsoft.activity' || (p.name === 'activity' && p.filename === undefined)) {
          const activity = parseJsonObject(p.body);
          if (activity) {
            shape.activity = activity;
            shape.summary = summarizeActivity(activity);
          }
        } else {
          shape.files!.push({ name: p.filename ?? p.name, contentType: type });
        }
      }
      return shape;
    }
    // A single raw file: Content-Type + Content-Disposition name the file.
    return { files: [{ name: dispositionParam(contentDisposition, 'filename'), contentType: baseType(contentType) }] };
  }
  return {};
}

const recordedShapes = new WeakMap<HttpEvent, RequestShape>();

/** The shape of a recorded request (computed once per event). */
export function shapeOfRecorded(ev: HttpEvent): RequestShape {
  let shape = recordedShapes.get(ev);
  if (!shape) {
    const h = ev.request.headers;
    shape = shapeOf(ev.route, decodeBody(ev.request.body), h['content-type'], h['content-disposition']);
    recordedShapes.set(ev, shape);
  }
  return shape;
}

/**
 * How a posted message must match the recorded one. 'strict' (the default): its type and text. 'loose', for
 * live demos only: any message takes the place of the next recorded message, so a presenter who types
 * "hi there" instead of "Hello" moves on to the next recorded turn (the echo shows what they typed).
 */
export type MatchMode = 'strict' | 'loose';

/** null when the live request may be answered as the recorded one under `mode`, else why not. */
export function matchDecision(route: RouteName, live: RequestShape, recorded: RequestShape, mode: MatchMode): string | null {
  const why = compareShapes(route, live, recorded);
  if (why === null || mode === 'strict') return why;
  const loose = routePolicy(route).match === 'activity' && live.summary?.type === 'message' && recorded.summary?.type === 'message';
  return loose ? null : why;
}

/** null when the live request matches the recorded one, else why not. */
export function compareShapes(route: RouteName, live: RequestShape, recorded: RequestShape): string | null {
  const match = routePolicy(route).match;
  if (match === 'activity') {
    if (!recorded.summary) return null; // the recording had no JSON activity: nothing to compare
    if (!live.summary) return 'the request body is not a JSON activity';
    return compareSummaries(live.summary, recorded.summary);
  }
  if (match === 'filesAndActivity') {
    const lf = live.files ?? [];
    const rf = recorded.files ?? [];
    if (lf.length !== rf.length) return `${lf.length} file(s) uploaded, the cassette recorded ${rf.length}`;
    for (let i = 0; i < lf.length; i++) {
      const a = lf[i];
      const b = rf[i];
      // Compare what both sides know (a recording may lack a header).
      if (a.name !== undefined && b.name !== undefined && a.name !== b.name)
        return `file ${i + 1} is named ${JSON.stringify(a.name)}, the cassette recorded ${JSON.stringify(b.name)}`;
      if (a.contentType !== undefined && b.contentType !== undefined && a.contentType !== b.contentType) {
        return `file ${i + 1} has content type ${a.contentType}, the cassette recorded ${b.contentType}`;
      }
    }
    if (live.summary && recorded.summary) return compareSummaries(live.summary, recorded.summary);
    return null;
  }
  return null;
}

function compareSummaries(live: ActivitySummary, rec: ActivitySummary): string | null {
  if (live.type !== rec.type) return `activity type ${JSON.stringify(live.type)} differs from the recorded ${JSON.stringify(rec.type)}`;
  if (live.text !== rec.text)
    return `activity text ${JSON.stringify(clip(live.text))} differs from the recorded ${JSON.stringify(clip(rec.text))}`;
  if ((live.type === 'event' || live.type === 'invoke') && live.name !== rec.name) {
    return `${live.type} name ${JSON.stringify(live.name ?? null)} differs from the recorded ${JSON.stringify(rec.name ?? null)}`;
  }
  return null;
}

/** The recorded request as shown in mismatch errors and summaries. */
export function describeRecorded(ev: HttpEvent): { json: Record<string, unknown>; line: string } {
  const shape = shapeOfRecorded(ev);
  const json: Record<string, unknown> = {
    method: ev.request.method,
    path: ev.request.path,
    route: ev.route,
    status: ev.response?.status ?? null,
  };
  if (shape.summary) json.activity = clipSummary(shape.summary);
  if (shape.files) json.files = shape.files;
  return { json, line: lineOf(ev.request.method, ev.request.path, shape) };
}

export function describeLive(method: string, path: string, route: RouteName, shape: RequestShape): Record<string, unknown> {
  const json: Record<string, unknown> = { method, path, route };
  if (shape.summary) json.activity = clipSummary(shape.summary);
  if (shape.files) json.files = shape.files;
  return json;
}

function lineOf(method: string, path: string, shape: RequestShape): string {
  let line = `${method} ${path}`;
  if (shape.summary)
    line += ` ${shape.summary.type}${shape.summary.name ? ` ${shape.summary.name}` : ''} ${JSON.stringify(clip(shape.summary.text))}`;
  if (shape.files?.length) line += ` files ${shape.files.map((f) => `${f.name ?? '?'} (${f.contentType ?? '?'})`).join(', ')}`;
  return line;
}

function clipSummary(s: ActivitySummary): ActivitySummary {
  return { ...s, text: clip(s.text) };
}

function clip(s: string): string {
  return s.length > 200 ? s.slice(0, 200) + '…' : s;
}

function baseType(ct: string | undefined): string | undefined {
  if (!ct) return undefined;
  return ct.split(';')[0].trim().toLowerCase() || undefined;
}

function parseJsonObject(body: Buffer): Activity | undefined {
  if (body.length === 0) return undefined;
  try {
    const v = JSON.parse(body.toString('utf8'));
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Activity) : undefined;
  } catch {
    return undefined;
  }
}
