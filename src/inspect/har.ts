// HAR 1.2 export (http://www.softwareishard.com/blog/har-12-spec/): one entry per HTTP exchange and one per
// WebSocket, the socket's frames in `_webSocketMessages` the way Chrome DevTools writes them, so DevTools'
// Network panel ("Import HAR file") and HAR viewers show the recording.
import { STATUS_CODES } from 'node:http';
import type { Body, Cassette, FrameData, HttpEvent, WsCloseEvent, WsMessageEvent, WsOpenEvent } from '../cassette/schema.js';
import { decodeBody, decodeFrame } from '../cassette/body.js';
import { TOOL_NAME, TOOL_VERSION } from '../version.js';
import { readModel } from '../model/index.js';
import { epochMs } from './activities.js';

export interface HarNameValue {
  name: string;
  value: string;
  comment?: string;
}

export interface HarPostData {
  mimeType: string;
  text: string;
  comment?: string;
}

export interface HarContent {
  size: number;
  mimeType: string;
  text?: string;
  encoding?: string;
  comment?: string;
}

export interface HarRequest {
  method: string;
  url: string;
  httpVersion: string;
  cookies: HarNameValue[];
  headers: HarNameValue[];
  queryString: HarNameValue[];
  postData?: HarPostData;
  headersSize: number;
  bodySize: number;
  comment?: string;
}

export interface HarResponse {
  status: number;
  statusText: string;
  httpVersion: string;
  cookies: HarNameValue[];
  headers: HarNameValue[];
  content: HarContent;
  redirectURL: string;
  headersSize: number;
  bodySize: number;
  comment?: string;
  /** Chrome's field for a request that got no response. */
  _error?: string;
}

export interface HarTimings {
  blocked: number;
  dns: number;
  connect: number;
  send: number;
  wait: number;
  receive: number;
  ssl: number;
}

/** A frame as Chrome DevTools exports it: time in epoch seconds, opcode 1 text / 2 binary (data base64). */
export interface HarWebSocketMessage {
  type: 'send' | 'receive';
  time: number;
  opcode: 1 | 2;
  data: string;
}

export interface HarEntry {
  pageref?: string;
  startedDateTime: string;
  time: number;
  request: HarRequest;
  response: HarResponse;
  cache: Record<string, never>;
  timings: HarTimings;
  comment?: string;
  _resourceType: 'fetch' | 'websocket';
  _webSocketMessages?: HarWebSocketMessage[];
}

export interface HarPage {
  startedDateTime: string;
  id: string;
  title: string;
  pageTimings: { onContentLoad: number; onLoad: number };
}

export interface Har {
  log: {
    version: '1.2';
    creator: { name: string; version: string; comment?: string };
    pages?: HarPage[];
    entries: HarEntry[];
    comment?: string;
  };
}

export interface HarOptions {
  /** One HAR page per conversation, entries linked to it by pageref (default true). */
  pages?: boolean;
}

export function toHar(cassette: Cassette, opts: HarOptions = {}): Har {
  const model = readModel(cassette);
  const withPages = opts.pages ?? true;
  const pageId = (conversationId: string | null) => (withPages && conversationId ? `conversation_${conversationId}` : undefined);
  const pages = new Map<string, HarPage>();
  const entries: HarEntry[] = [];
  const sockets = new Map<number, { entry: HarEntry; open: WsOpenEvent }>();

  for (const [i, e] of cassette.events.entries()) {
    const conversationId = model.conversationOf(i)?.id ?? null;
    const pageref = pageId(conversationId);
    if (pageref && conversationId && !pages.has(pageref)) {
      pages.set(pageref, {
        startedDateTime: iso(cassette, e.t),
        id: pageref,
        title: `Direct Line conversation ${conversationId}`,
        pageTimings: { onContentLoad: -1, onLoad: -1 },
      });
    }
    switch (e.type) {
      case 'http':
        entries.push(withPage(httpEntry(cassette, e), pageref));
        break;
      case 'ws.open': {
        const entry = withPage(socketEntry(cassette, e), pageref);
        sockets.set(e.socket, { entry, open: e });
        entries.push(entry);
        break;
      }
      case 'ws.message': {
        const s = sockets.get(e.socket);
        if (s) s.entry._webSocketMessages!.push(frameMessage(cassette, e));
        break;
      }
      case 'ws.close': {
        const s = sockets.get(e.socket);
        if (s) s.entry.comment = closeComment(s.entry.comment, e, s.open);
        break;
      }
    }
  }
  const log: Har['log'] = {
    version: '1.2',
    creator: {
      name: TOOL_NAME,
      version: TOOL_VERSION,
      comment: `from a cassette recorded by ${cassette.tool.name} ${cassette.tool.version}`,
    },
    entries,
    comment: `Direct Line recording of ${cassette.upstream.origin}${cassette.upstream.basePath}, started ${cassette.createdAt}`,
  };
  if (withPages) log.pages = [...pages.values()];
  return { log };
}

function withPage(entry: HarEntry, pageref: string | undefined): HarEntry {
  return pageref ? { pageref, ...entry } : entry;
}

function httpEntry(cassette: Cassette, e: HttpEvent): HarEntry {
  const req = e.request;
  const reqBody = bodyBytes(req.body);
  const request: HarRequest = {
    method: req.method,
    url: url(cassette.upstream.origin, req.path, req.query),
    httpVersion: 'HTTP/1.1',
    cookies: [],
    headers: headerList(req.headers),
    queryString: Object.entries(req.query).map(([name, value]) => ({ name, value })),
    headersSize: -1,
    bodySize: reqBody.length,
  };
  if (req.body !== null) {
    const { text, base64 } = bodyText(req.body, reqBody);
    request.postData = { mimeType: req.headers['content-type'] ?? mimeOf(req.body), text };
    if (base64) request.postData.comment = 'text is base64';
  }
  let response: HarResponse;
  if (e.response) {
    const resBody = bodyBytes(e.response.body);
    const { text, base64 } = bodyText(e.response.body, resBody);
    const content: HarContent = { size: resBody.length, mimeType: e.response.headers['content-type'] ?? mimeOf(e.response.body) };
    if (e.response.body !== null) content.text = text;
    if (base64) content.encoding = 'base64';
    response = {
      status: e.response.status,
      statusText: STATUS_CODES[e.response.status] ?? '',
      httpVersion: 'HTTP/1.1',
      cookies: [],
      headers: headerList(e.response.headers),
      content,
      redirectURL: e.response.headers.location ?? '',
      headersSize: -1,
      bodySize: resBody.length,
    };
    if (e.error) response._error = `${e.error.code}: ${e.error.message}`;
  } else {
    // What Chrome writes for a request that never got an answer: status 0 and the network error.
    response = {
      status: 0,
      statusText: '',
      httpVersion: '',
      cookies: [],
      headers: [],
      content: { size: 0, mimeType: 'x-unknown' },
      redirectURL: '',
      headersSize: -1,
      bodySize: -1,
      _error: e.error ? `${e.error.code}: ${e.error.message}` : 'no response',
    };
  }
  const wait = round(e.duration);
  return {
    startedDateTime: iso(cassette, e.t),
    time: wait,
    request,
    response,
    cache: {},
    timings: { blocked: -1, dns: -1, connect: -1, ssl: -1, send: 0, wait, receive: 0 },
    comment: `Direct Line ${e.route}`,
    _resourceType: 'fetch',
  };
}

function socketEntry(cassette: Cassette, e: WsOpenEvent): HarEntry {
  const origin = cassette.upstream.origin.replace(/^http(s?):/i, 'ws$1:');
  const accepted = e.status === 101;
  const refusal = e.response;
  const resBody = bodyBytes(refusal?.body ?? null);
  const content: HarContent = {
    size: resBody.length,
    mimeType: refusal ? (refusal.headers['content-type'] ?? mimeOf(refusal.body)) : 'x-unknown',
  };
  if (refusal && refusal.body !== null) {
    const { text, base64 } = bodyText(refusal.body, resBody);
    content.text = text;
    if (base64) content.encoding = 'base64';
  }
  return {
    startedDateTime: iso(cassette, e.t),
    time: 0,
    request: {
      method: 'GET',
      url: url(origin, e.path, e.query),
      httpVersion: 'HTTP/1.1',
      cookies: [],
      // The cassette keeps no handshake headers; these two are what makes it a WebSocket upgrade.
      headers: [
        { name: 'Upgrade', value: 'websocket' },
        { name: 'Connection', value: 'Upgrade' },
      ],
      queryString: Object.entries(e.query).map(([name, value]) => ({ name, value })),
      headersSize: -1,
      bodySize: 0,
    },
    response: {
      status: e.status,
      statusText: STATUS_CODES[e.status] ?? '',
      httpVersion: 'HTTP/1.1',
      cookies: [],
      headers: accepted
        ? [
            { name: 'Upgrade', value: 'websocket' },
            { name: 'Connection', value: 'Upgrade' },
          ]
        : headerList(refusal?.headers ?? {}),
      content,
      redirectURL: '',
      headersSize: -1,
      bodySize: resBody.length,
    },
    cache: {},
    timings: { blocked: -1, dns: -1, connect: -1, ssl: -1, send: 0, wait: 0, receive: 0 },
    comment: `Direct Line stream, socket ${e.socket}${accepted ? '' : ' (upgrade refused)'}`,
    _resourceType: 'websocket',
    _webSocketMessages: [],
  };
}

function frameMessage(cassette: Cassette, e: WsMessageEvent): HarWebSocketMessage {
  const { payload, isBinary } = decodeFrame(e.data as FrameData);
  return {
    type: e.from === 'client' ? 'send' : 'receive',
    time: epochMs(cassette, e.t) / 1000,
    opcode: isBinary ? 2 : 1,
    data: isBinary ? (payload as Buffer).toString('base64') : (payload as string),
  };
}

function closeComment(previous: string | undefined, e: WsCloseEvent, open: WsOpenEvent): string {
  const close = `closed by ${e.by} at +${((e.t - open.t) / 1000).toFixed(3)}s: ${e.code}${e.reason ? ` ${e.reason}` : ''}`;
  return previous ? `${previous}; ${close}` : close;
}

function url(origin: string, path: string, query: Record<string, string>): string {
  const qs = new URLSearchParams(query).toString();
  return `${origin.replace(/\/+$/, '')}${path}${qs ? `?${qs}` : ''}`;
}

function headerList(h: Record<string, string>): HarNameValue[] {
  return Object.entries(h).map(([name, value]) => ({ name, value }));
}

function bodyBytes(b: Body): Buffer {
  return decodeBody(b);
}

function bodyText(b: Body, bytes: Buffer): { text: string; base64: boolean } {
  if (b === null) return { text: '', base64: false };
  if ('base64' in b) return { text: b.base64, base64: true };
  return { text: bytes.toString('utf8'), base64: false };
}

function mimeOf(b: Body): string {
  if (b === null) return 'x-unknown';
  if ('json' in b) return 'application/json';
  if ('text' in b) return 'text/plain';
  return 'application/octet-stream';
}

function iso(cassette: Cassette, t: number): string {
  return new Date(epochMs(cassette, t)).toISOString();
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
