// Cassettes for the replay benchmarks, shaped like the recorder's output (placeholders for tokens, the
// upstream's streamUrl, Direct Line ids) and checked with validateCassette.
import { validateCassette } from '../../src/cassette/load.js';
import type { Cassette, CassetteEvent } from '../../src/cassette/schema.js';

const BASE = '/v3/directline';
const ORIGIN = 'http://127.0.0.1:5555';
const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache' };
export const START_BODY = { user: { id: 'dl_bench-user' }, locale: 'en-US' };

function cassette(events: CassetteEvent[], placeholders: Record<string, string>): Cassette {
  return validateCassette({
    version: 1,
    tool: { name: 'directline-vcr', version: '0.1.0' },
    createdAt: '2026-01-01T00:00:00.000Z',
    upstream: { origin: ORIGIN, basePath: BASE },
    redaction: { placeholders },
    events,
  }, '<bench>');
}

function start(t: number, i: number, duration: number, placeholders: Record<string, string>): CassetteEvent {
  const id = `BenchConv${String(i).padStart(4, '0')}-us`;
  const token = `DLVCR_TOKEN_${i + 1}`;
  const streamToken = `DLVCR_STREAMTOKEN_${i + 1}`;
  placeholders[token] = 'token';
  placeholders[streamToken] = 'streamToken';
  placeholders.DLVCR_SECRET_1 = 'secret';
  return {
    type: 'http', t, conversationId: id, route: 'conversations.start',
    request: { method: 'POST', path: `${BASE}/conversations`, query: {}, headers: { authorization: 'Bearer DLVCR_SECRET_1', 'content-type': 'application/json', 'x-ms-bot-agent': 'DirectLine/3.0 (directlinejs 0.15.8)' }, body: { json: START_BODY } },
    response: { status: 201, headers: JSON_HEADERS, body: { json: { conversationId: id, token, expires_in: 3600, streamUrl: `ws://127.0.0.1:5555${BASE}/conversations/${id}/stream?watermark=-&t=${streamToken}`, referenceGrammarId: '2ea0374a-1d5c-4b4e-a1f8-6f1b2c7d9e00' } } },
    duration,
  };
}

/** `n` recorded conversations, each one conversations.start with its own ids and tokens (n distinct recorded requests). */
export function startsCassette(n: number): Cassette {
  const placeholders: Record<string, string> = {};
  return cassette(Array.from({ length: n }, (_, i) => start(i * 10, i, 0, placeholders)), placeholders);
}

/**
 * One conversation: start, stream open, then bot frames at recorded gaps (all caused by the stream
 * attach, so each frame is due at attach + its recorded offset / speed), then the client closes.
 */
export function timingCassette(gaps: number[]): Cassette {
  const placeholders: Record<string, string> = {};
  const s = start(0, 0, 20, placeholders);
  const id = s.conversationId!;
  const events: CassetteEvent[] = [s, { type: 'ws.open', t: 40, conversationId: id, socket: 0, path: `${BASE}/conversations/${id}/stream`, query: { watermark: '-', t: 'DLVCR_STREAMTOKEN_1' }, status: 101 }];
  let t = 40;
  gaps.forEach((gap, k) => {
    t += gap;
    const activity = { type: 'message', id: `${id}|${String(k).padStart(7, '0')}`, timestamp: '2026-01-01T00:00:01.0000000Z', channelId: 'directline', from: { id: 'bench-bot', name: 'Bench Bot', role: 'bot' }, conversation: { id }, text: `frame ${k}` };
    events.push({ type: 'ws.message', t, conversationId: id, socket: 0, from: 'server', data: { json: { activities: [activity], watermark: String(k) } } });
  });
  events.push({ type: 'ws.close', t: t + 100, conversationId: id, socket: 0, by: 'client', code: 1000, reason: '' });
  return cassette(events, placeholders);
}
