// One HTTP call for tests, over fetch: a bearer token, a JSON or raw body, a time limit, and the reply read
// whole (status, headers, text, parsed JSON) with the times it was sent and read.

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON; undefined when it is empty or not JSON. */
  json: any;
  /** The body parsed as JSON, else its text; null when empty. */
  body: any;
  /** performance.now() when the request was sent. */
  sentAt: number;
  /** performance.now() when the reply body was read. */
  at: number;
}

export interface CallOptions {
  /** Sent as `Authorization: Bearer …`; null or undefined sends none. */
  bearer?: string | null;
  /** Sent as JSON (content-type application/json unless `headers` says otherwise). */
  body?: unknown;
  /** Sent as is (a string, bytes, FormData, …). */
  raw?: BodyInit | Uint8Array;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export async function call(base: string, method: string, path: string, opts: CallOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.bearer) headers.authorization = `Bearer ${opts.bearer}`;
  // A copy: a Buffer may be a view into a larger pooled ArrayBuffer.
  let body = (opts.raw instanceof Uint8Array ? new Uint8Array(opts.raw) : opts.raw) as BodyInit | undefined;
  if (opts.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(opts.body);
  }
  const sentAt = performance.now();
  const res = await fetch(base + path, {
    method,
    headers,
    body,
    signal: AbortSignal.timeout(opts.timeoutMs ?? 20_000),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  const parsed = text === '' ? null : json === undefined ? text : json;
  return { status: res.status, headers: res.headers, text, json, body: parsed, sentAt, at: performance.now() };
}
