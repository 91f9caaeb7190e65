// Cassettes for the replay benchmarks, shaped like the recorder's output (placeholders for tokens, the
// upstream's streamUrl, Direct Line ids) and checked with validateCassette.
import { validateCassette } from '../../src/cassette/load.js';
import type { Cassette, CassetteEvent } from '../../src/cassette/schema.js';

const BASE = '/v3/directline';
const ORIGIN = 'http://127.0.0.1:5555';
const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache' };
export const START_BODY = { user: { id: 'dl_bench-user' }, locale: 'en-US' };

function cassette(events: CassetteEvent[], placeholders: Record<string, string>): Cassette {
  return validateCassette(
    {
      version: 1,
      tool: { name: 'directline-vcr', version: '0.1.0' },
      createdAt: '2026-01-01T00:00:00.000Z',
      upstream: { origin: ORIGIN, basePath: BASE },
      redaction: { placeholders },
      events,
    },
    '<bench>',
  );
}

function start(t: number, i: number, duration: number, placeholders: Record<string, string>): CassetteEvent {
  const id = `BenchConv${String(i).padStart(4, '0')}-us`;
  const token = `DLVCR_TOKEN_${i + 1}`;
  const streamToken = `DLVCR_STREAMTOKEN_${i + 1}`;
  placeholders[token] = 'token';
  placeholders[streamToken] = 'streamToken';
  placeholders.DLVCR_SECRET_1 = 'secret';
  return {
    type: 'http',
    t,
    conversationId: id,
    route: 'conversations.start',
    request: {
      method: 'POST',
      path: `${BASE}/conversations`,
      query: {},
      headers: {
        authorization: 'Bearer DLVCR_SECRET_1',
        'content-type': 'application/json',
        'x-ms-bot-agent': 'DirectLine/3.0 (directlinejs 0.15.8)',
      },
      body: { json: START_BODY },
    },
    response: {
      status: 201,
      headers: JSON_HEADERS,
      body: {
        json: {
          conversationId: id,
          token,
          expires_in: 3600,
          streamUrl: `ws://127.0.0.1:5555${BASE}/conversations/${id}/stream?watermark=-&t=${streamToken}`,
          referenceGrammarId: '2ea0374a-1d5c-4b4e-a1f8-6f1b2c7d9e00',
        },
      },
    },
    duration,
  };
}

export const postText = (k: number) => `message ${k + 1}`;

/** A user message as a Direct Line client posts it (the replayer matches on type and text). */
export function postBody(k: number, clientActivityID: string): Record<string, unknown> {
  return {
    type: 'message',
    text: postText(k),
    from: { id: 'dl_bench-user', name: 'Bench User', role: 'user' },
    locale: 'en-US',
    channelData: { clientActivityID },
  };
}

/**
 * `conversations` recorded conversations, each conversations.start then `posts` activities.post (texts
 * "message 1"…), every one with its own ids and tokens: conversations × (1 + posts) distinct recorded requests.
 */
export function conversationsCassette(conversations: number, posts: number): Cassette {
  const placeholders: Record<string, string> = {};
  const events: CassetteEvent[] = [];
  let t = 0;
  for (let i = 0; i < conversations; i++) {
    const s = start(t, i, 0, placeholders);
    events.push(s);
    const id = s.conversationId!;
    const token = `DLVCR_TOKEN_${i + 1}`;
    for (let k = 0; k < posts; k++) {
      t += 5;
      events.push({
        type: 'http',
        t,
        conversationId: id,
        route: 'activities.post',
        request: {
          method: 'POST',
          path: `${BASE}/conversations/${id}/activities`,
          query: {},
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: { json: postBody(k, `rec-${i}-${k}`) },
        },
        response: { status: 200, headers: JSON_HEADERS, body: { json: { id: `${id}|${String(k).padStart(7, '0')}` } } },
        duration: 0,
      });
    }
    t += 5;
  }
  return cassette(events, placeholders);
}

/**
 * One conversation: start, stream open, then bot frames at recorded gaps (all caused by the stream
 * attach, so each frame is due at attach + its recorded offset / speed), then the client closes.
 */
export function timingCassette(gaps: number[]): Cassette {
  const placeholders: Record<string, string> = {};
  const s = start(0, 0, 20, placeholders);
  const id = s.conversationId!;
  const events: CassetteEvent[] = [
    s,
    {
      type: 'ws.open',
      t: 40,
      conversationId: id,
      socket: 0,
      path: `${BASE}/conversations/${id}/stream`,
      query: { watermark: '-', t: 'DLVCR_STREAMTOKEN_1' },
      status: 101,
    },
  ];
  let t = 40;
  gaps.forEach((gap, k) => {
    t += gap;
    const activity = {
      type: 'message',
      id: `${id}|${String(k).padStart(7, '0')}`,
      timestamp: '2026-01-01T00:00:01.0000000Z',
      channelId: 'directline',
      from: { id: 'bench-bot', name: 'Bench Bot', role: 'bot' },
      conversation: { id },
      text: `frame ${k}`,
    };
    events.push({
      type: 'ws.message',
      t,
      conversationId: id,
      socket: 0,
      from: 'server',
      data: { json: { activities: [activity], watermark: String(k) } },
    });
  });
  events.push({ type: 'ws.close', t: t + 100, conversationId: id, socket: 0, by: 'client', code: 1000, reason: '' });
  return cassette(events, placeholders);
}
