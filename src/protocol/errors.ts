// Direct Line-shaped error bodies (docs/protocol.md#errors), used by record and replay alike
// so that clients and people see errors in the form the service uses.
import type { ServerResponse } from 'node:http';

export interface DirectLineErrorBody {
  error: { code: string; message: string };
  httpStatusCode?: number;
  [extra: string]: unknown;
}

export function errorBody(code: string, message: string, extra: Record<string, unknown> = {}): DirectLineErrorBody {
  return { error: { code, message }, ...extra };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const payload = Buffer.from(JSON.stringify(body));
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(payload.length),
    ...headers,
  });
  res.end(payload);
}

export function sendError(res: ServerResponse, status: number, code: string, message: string, extra: Record<string, unknown> = {}): void {
  sendJson(res, status, errorBody(code, message, extra));
}
