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
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    const tooLarge = () => {
      over = true;
      chunks = [];
      reject(new BodyTooLargeError(limit));
    };
    req.on('data', (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > limit) return tooLarge();
      chunks.push(c);
    });
    req.on('end', () => {
      if (!over) resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
    });
    req.on('error', reject);
    if (Number(req.headers['content-length']) > limit) tooLarge();
  });
}

/** The answer to an oversized body: 413 with a Direct Line error body. */
export function sendBodyTooLarge(res: ServerResponse, err: BodyTooLargeError, headers: Record<string, string> = {}): void {
  for (const [k, v] of Object.entries(headers)) if (!res.headersSent) res.setHeader(k, v);
  sendError(res, 413, 'BadArgument', err.message);
}
