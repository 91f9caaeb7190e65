// What the service answers in the situations a fault stands for: status, headers and a Direct Line error body
// ({error:{code,message}}, sometimes with httpStatusCode; docs/protocol.md "Status codes"). Clients look only
// at the status (and 429's Retry-After); the bodies are there for people reading logs and traces.
import { errorBody } from '../protocol/errors.js';

export interface FaultReply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

const KNOWN: Record<number, { code: string; message: string; extra?: Record<string, unknown> }> = {
  400: { code: 'BadArgument', message: 'Bad request' },
  401: { code: 'BadArgument', message: 'Missing token or secret' },
  403: { code: 'BadArgument', message: 'Security token not valid for this conversation' },
  404: { code: 'BadArgument', message: 'Conversation not found' },
  409: { code: 'Conflict', message: 'Conversation already exists' },
  429: { code: 'TooManyRequests', message: 'Too many requests; retry after the Retry-After interval' },
  500: { code: 'InternalServerError', message: 'An internal error occurred in Direct Line' },
  502: { code: 'BotError', message: 'Failed to send activity: bot returned an error', extra: { httpStatusCode: 500 } },
  503: { code: 'ServiceUnavailable', message: 'The service is temporarily unavailable' },
  504: { code: 'BotError', message: 'Failed to send activity: bot timed out', extra: { httpStatusCode: 504 } },
};

function json(status: number, body: unknown, headers: Record<string, string> = {}): FaultReply {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body: Buffer.from(JSON.stringify(body)) };
}

/** An error status as the service sends it; 429 carries Retry-After (seconds). */
export function statusReply(status: number): FaultReply {
  const k = KNOWN[status] ?? { code: status >= 500 ? 'InternalServerError' : 'BadArgument', message: `HTTP ${status}` };
  return json(status, errorBody(k.code, k.message, k.extra), status === 429 ? { 'retry-after': '1' } : {});
}

/** An expired (or no longer valid) token: 403 TokenExpired. */
export function tokenExpiredReply(): FaultReply {
  return json(403, errorBody('TokenExpired', 'Token expired'));
}

/** A conversation the service no longer knows (expired, deleted): 404. */
export function conversationGoneReply(): FaultReply {
  return json(404, errorBody('BadArgument', 'Conversation not found'));
}
