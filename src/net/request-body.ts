// Reading a request body, with one size limit policy for both servers.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendError } from '../protocol/errors.js';

/** Largest request body either server takes by default (an upload with its attachment): 64 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;

/** The body is over the limit (declared or streamed). */
export class BodyTooLargeError extends Error {
  readonly code = 'BODY_TOO_LARGE';
  constructor(readonly limit: number) {
    super(`request body over the ${limit}-byte limit`);
  }
}

/**
 * The request body, up to `limit` bytes. Beyond it (declared or streamed) it rejects with BodyTooLargeError
 * and reads the rest without keeping it, so the caller's 413 reaches the client (destroying the request would
 * reset the connection before the client reads the answer).
 */
export function readRequestBody(req: IncomingMessage, limit: number = DEFAULT_MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => readRequestBodyThen(req, limit, settle, { resolve, reject }));
}

function settle(p: { resolve: (b: Buffer) => void; reject: (e: Error) => void }, err: Error | null, body?: Buffer): void {
  if (err) p.reject(err);
  else p.resolve(body!);
}

/**
 * Called once, with `arg`: with the body, or with BodyTooLargeError (the rest is still read) or the request's
 * error. A module-level function and an argument, so that a server's hot path makes no closure per request.
 */
export type BodyCallback<T> = (arg: T, err: Error | null, body?: Buffer) => void;

interface BodyRead {
  chunks: Buffer[];
  size: number;
  limit: number;
  settled: boolean;
  done: BodyCallback<unknown>;
  arg: unknown;
}

const READ = Symbol('request body read');
type Reading = IncomingMessage & { [READ]?: BodyRead };

/**
 * readRequestBody without a promise, for a server's hot path: module-level listeners and one state object per
 * request (no closures, no microtask between the last chunk and the answer).
 */
export function readRequestBodyThen<T>(req: IncomingMessage, limit: number, done: BodyCallback<T>, arg: T): void {
  const r: BodyRead = { chunks: [], size: 0, limit, settled: false, done: done as BodyCallback<unknown>, arg };
  (req as Reading)[READ] = r;
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('error', onError);
  if (Number(req.headers['content-length']) > limit) tooLarge(r);
}

function tooLarge(r: BodyRead): void {
  r.chunks = [];
  if (r.settled) return;
  r.settled = true;
  r.done(r.arg, new BodyTooLargeError(r.limit));
}

function onData(this: Reading, c: Buffer): void {
  const r = this[READ]!;
  if (r.settled) return;
  r.size += c.length;
  if (r.size > r.limit) tooLarge(r);
  else r.chunks.push(c);
}

function onEnd(this: Reading): void {
  const r = this[READ]!;
  if (r.settled) return;
  r.settled = true;
  r.done(r.arg, null, r.chunks.length === 1 ? r.chunks[0] : Buffer.concat(r.chunks));
}

function onError(this: Reading, err: Error): void {
  const r = this[READ]!;
  if (r.settled) return;
  r.settled = true;
  r.done(r.arg, err);
}

/** The answer to an oversized body: 413 with a Direct Line error body. */
export function sendBodyTooLarge(res: ServerResponse, err: BodyTooLargeError, headers: Record<string, string> = {}): void {
  for (const [k, v] of Object.entries(headers)) if (!res.headersSent) res.setHeader(k, v);
  sendError(res, 413, 'BadArgument', err.message);
}
