// The lifecycle scenario of the official client, as one table. Each row is a step of one of three client
// runs; it acts, then states what the client must have seen during the step: the connection statuses it
// reported and the activities activity$ emitted (type:role:text, in order), plus step facts (what its
// sockets and requests did). lifecycle.test.ts runs the table twice — through the recorder against the
// emulator, then against the replay of that very cassette with the emulator closed — and requires the same
// statuses, activities and facts in both runs.
//
//   A  secret, WebSocket, in Node; timeout 1000 ms (so the client pings every second instead of every 20 s)
//      and random() = 0 (so its socket-reconnect delay is the minimum, 3 s)
//   B  token from tokens/generate, polling (pollingInterval 200), in Node; the client's own 15-min refresh
//      timer runs on an injected scheduler that shortens only that interval, to REFRESH_WARP_MS
//   C  secret, WebSocket, in Chromium (dist/directline.js): upload of a file attachment
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Browser } from 'playwright-core';
import type { DirectLine } from 'botframework-directlinejs';
import type { Emulator } from '../emulator/index.js';
import {
  activitiesOf,
  createDirectLine,
  endDirectLine,
  postAndWait,
  statusLog,
  type CreateDirectLineOptions,
} from '../support/directline-client.js';
import { ClientProbe, refreshWarpScheduler, type SocketLog } from './probes.js';
import { BrowserClient } from './browser-client.js';
import { sleep } from '../support/async.js';

export type Mode = 'record' | 'replay';
export type Facts = Record<string, string | number | boolean>;
export type ClientName = 'A' | 'B' | 'C';

/** What the client saw during one step. */
export interface Seen {
  statuses: number[];
  activities: string[];
  facts: Facts;
  /** The same activities in full, with per-run values normalised (see comparable()); compared between the runs. */
  bodies: unknown[];
}

export interface Step {
  id: string;
  client: ClientName;
  title: string;
  /** Statuses the client reports during the step (new entries of connectionStatus$). */
  statuses: number[];
  /** Activities emitted during the step, as type:role:text [attachment name and type]. */
  activities: string[];
  /** What else is asserted (for the table in the report). */
  asserts: string;
  run(ctx: Ctx): Promise<Facts>;
}

export const SECRET = 'emulator-secret-0123456789';
export const WELCOME = 'message:bot:Welcome to the emulator bot!';
/** Emulator token lifetime in the record run: the start token is dead before step B3 posts. */
export const TOKEN_TTL_MS = 2500;
/** The client's 15-minute refresh interval, warped. */
export const REFRESH_WARP_MS = 1000;
/** The client's ping interval (its `timeout`) in run A. */
export const PING_MS = 1000;
/** Minimum socket-reconnect delay of DirectLineJS: 3000 + random() · 12000 with random() = 0. */
export const RECONNECT_MIN_MS = 3000;
/** Time between the second ping and the drop in the record run. */
export const DROP_MARGIN_MS = 500;
export const FILE = { name: 'note.txt', type: 'text/plain', content: 'conformance attachment: hello from Chromium\n' };

const USER_A = 'conformance-a';
const USER_B = 'dl_conformance-b';
const USER_C = 'conformance-c';

export class NodeClient {
  readonly probe: ClientProbe;
  readonly dl: DirectLine;

  constructor(
    domain: string,
    readonly user: string,
    options: Omit<CreateDirectLineOptions, 'domain'> & { scheduler?: unknown },
  ) {
    this.probe = new ClientProbe(domain);
    // The client's injectable services (lib/directLine.js makeServices); see probes.ts.
    const withServices: CreateDirectLineOptions & Record<string, unknown> = {
      domain,
      ...options,
      WebSocket: this.probe.WebSocket,
      ajax: this.probe.ajax,
    };
    this.dl = createDirectLine(withServices);
  }

  snapshot(): { statuses: number[]; activities: any[] } {
    return { statuses: [...statusLog(this.dl)], activities: [...activitiesOf(this.dl)] };
  }

  /** Private state of the client, read (never written) for assertions. */
  field(name: 'conversationId' | 'token' | 'watermark'): string {
    return (this.dl as unknown as Record<string, string>)[name];
  }

  async waitFor(pred: (activities: any[]) => boolean, what: string, timeoutMs = 6000): Promise<any[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const acts = activitiesOf(this.dl);
      if (pred(acts)) return [...acts];
      if (Date.now() > deadline) {
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${what}; statuses ${JSON.stringify(statusLog(this.dl))}, ` +
            `activities ${JSON.stringify(acts.map(shape))}`,
        );
      }
      await sleep(20);
    }
  }
}

export interface Ctx {
  mode: Mode;
  /** The proxy's domain (recorder or replayer) and origin. */
  domain: string;
  origin: string;
  /** The emulator, in the record run only. */
  emu: Emulator | null;
  browser: Browser;
  pageUrl: string;
  a?: NodeClient;
  b?: NodeClient;
  c?: BrowserClient;
  /** Values one step hands to a later one. */
  vars: Record<string, any>;
  /**
   * What the server holds for a conversation (non-typing activities): the emulator directly when recording, the replayer
   * when replaying.
   */
  history(conversationId: string): Promise<any[]>;
}

export function shape(a: any): string {
  const role = a.from?.role ?? '?';
  const files =
    Array.isArray(a.attachments) && a.attachments.length
      ? ` [${a.attachments.map((x: any) => `${x.name} ${x.contentType}`).join(', ')}]`
      : '';
  return `${a.type}:${role}:${a.text ?? ''}${files}`;
}

/**
 * An activity with what legitimately differs between two runs taken out: its id and timestamp, the
 * conversation id (inside other strings too), the random clientActivityIDs, the proxy's origin (attachment
 * contentUrls point at the recorder or the replayer); replyToId becomes the position of the activity it points
 * at in what the client saw.
 */
export function comparable(a: any, all: any[], proxyOrigin?: string): unknown {
  const conv: string | undefined = a.conversation?.id;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      const s = proxyOrigin && v.startsWith(proxyOrigin + '/') ? '<proxy>' + v.slice(proxyOrigin.length) : v;
      return (conv ? s.split(conv).join('<conversation>') : s).replace(/cid-[0-9a-f-]{36}/g, '<clientActivityID>');
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  const { id: _id, timestamp: _timestamp, replyToId, ...rest } = a;
  const out = walk(rest) as Record<string, unknown>;
  if (replyToId !== undefined) out.replyToId = `#${all.findIndex((x) => x.id === replyToId)}`;
  return out;
}

/**
 * A user message as Web Chat posts it: with a random per-send channelData.clientActivityID that its echo must
 * carry back (reference §4.8, trap 7) — random per run, so the replay cannot pass by serving the recorded one.
 */
const msg = (text: string, from: string) =>
  ({ type: 'message', text, from: { id: from }, channelData: { clientActivityID: cid() } }) as any;
const cid = (): string => `cid-${randomUUID()}`;

/**
 * The echo carries the sender's clientActivityID; the bot's answer (a message with this text, or endOfConversation) replies
 * to the echo.
 */
function assertLinked(acts: any[], echo: any, sent: any, answerText: string | 'endOfConversation'): void {
  assert.equal(
    echo?.channelData?.clientActivityID,
    sent.channelData.clientActivityID,
    'the echo carries the clientActivityID of this send',
  );
  const answer = acts.find((a) =>
    answerText === 'endOfConversation' ? a.type === answerText : a.type === 'message' && a.text === answerText,
  );
  assert.equal(answer?.replyToId, echo.id, `the bot's answer replies to the echo`);
}
const hasText = (text: string) => (acts: any[]) => acts.some((a) => a.text === text);
const hasType = (type: string) => (acts: any[]) => acts.some((a) => a.type === type);

/** Ids are unique and every non-typing activity is the server's history, in order: nothing lost, nothing twice. */
async function assertNothingLostOrDuplicated(ctx: Ctx, conversationId: string, activities: any[]): Promise<void> {
  const ids = activities.map((a) => a.id);
  assert.ok(
    ids.every((id) => typeof id === 'string' && id !== ''),
    'every activity has an id',
  );
  assert.equal(new Set(ids).size, ids.length, `no activity twice: ${JSON.stringify(ids)}`);
  const server = await ctx.history(conversationId);
  assert.deepEqual(
    activities.filter((a) => a.type !== 'typing').map((a) => `${a.id} ${shape(a)}`),
    server.map((a) => `${a.id} ${shape(a)}`),
    'the client saw exactly the stored history',
  );
}

async function tryFetch(url: string): Promise<{ status: number; text: string } | { error: string }> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return { status: res.status, text: await res.text() };
  } catch (err) {
    return { error: String((err as Error).cause ?? err) };
  }
}

function socket(client: NodeClient, n: number): SocketLog {
  const s = client.probe.sockets[n - 1];
  assert.ok(s, `socket #${n} exists`);
  return s;
}

function atProxy(ctx: Ctx, url: string): boolean {
  return new URL(url).host === new URL(ctx.origin).host;
}

/** A message round trip in Node: postActivity emits the echo's id, then the bot's reply arrives. */
async function roundTrip(client: NodeClient, text: string, from: string, reply: string): Promise<Facts> {
  const sent = msg(text, from);
  const id = await postAndWait(client.dl, sent);
  const acts = await client.waitFor(hasText(reply), `"${reply}"`);
  const echo = acts.find((a) => a.text === text && a.from?.role === 'user');
  assert.ok(echo, `the echo of "${text}" arrived`);
  assert.equal(id, echo.id, 'postActivity emitted the id of the echo');
  assertLinked(acts, echo, sent, reply);
  return { postActivityEmittedEchoId: true, echoCarriesClientActivityId: true, replyToEcho: true };
}

async function endClient(client: NodeClient): Promise<Facts> {
  const sent = msg('end', client.user);
  const id = await postAndWait(client.dl, sent);
  const acts = await client.waitFor(hasType('endOfConversation'), 'endOfConversation');
  const echo = acts.find((a) => a.id === id);
  assert.equal(echo?.text, 'end', 'postActivity emitted the id of the echo');
  assertLinked(acts, echo, sent, 'endOfConversation');
  endDirectLine(client.dl);
  return { echoCarriesClientActivityId: true, endOfConversationRepliesToEcho: true };
}

export const SCENARIO: Step[] = [
  // ---- A: secret, WebSocket, pings, dropped socket and the client's own reconnect ----------------------
  {
    id: 'A1',
    client: 'A',
    title: 'start with a secret (WebSocket)',
    statuses: [0, 1, 2],
    activities: [WELCOME],
    asserts: 'first request POST /conversations with the secret as bearer; socket #1 opened at the proxy with watermark=-',
    async run(ctx) {
      const a = new NodeClient(ctx.domain, USER_A, { secret: SECRET, webSocket: true, timeout: PING_MS, random: () => 0 });
      ctx.a = a;
      await a.waitFor(hasText('Welcome to the emulator bot!'), 'the welcome');
      const [start] = a.probe.requests;
      assert.equal(start?.route, 'conversations.start');
      assert.equal(start.bearer, SECRET);
      assert.match(start.botAgent ?? '', /^DirectLine\/3\.0 \(directlinejs 0\.15\.8\)$/);
      const s1 = socket(a, 1);
      assert.ok(atProxy(ctx, s1.url), `streamUrl points at the proxy: ${s1.url}`);
      assert.equal(new URL(s1.url).searchParams.get('watermark'), '-');
      return { startRoute: start.route, startStatus: start.status ?? 0, socket1AtProxy: true, socket1Watermark: '-' };
    },
  },
  {
    id: 'A2',
    client: 'A',
    title: 'message round trip on the socket',
    statuses: [],
    activities: ['message:user:hello', 'typing:bot:', 'message:bot:You said: hello'],
    asserts: 'postActivity emits the echo id',
    run: (ctx) => roundTrip(ctx.a!, 'hello', USER_A, 'You said: hello'),
  },
  {
    id: 'A3',
    client: 'A',
    title: `pings: '' every timeout (${PING_MS} ms instead of 20 s)`,
    statuses: [],
    activities: [],
    asserts:
      "≥ 2 '' frames sent on socket #1 about a timeout apart; the socket stays open; server keep-alives reach the client and emit nothing",
    async run(ctx) {
      const a = ctx.a!;
      const s1 = await a.probe.waitFor(
        () => {
          const s = socket(a, 1);
          return s.pings >= 2 && s.keepAlives >= 1 && s;
        },
        'two pings on socket #1',
        4000,
      );
      assert.equal(s1.closed, undefined, 'socket #1 is still open after the pings');
      // Recording: the drop (A4) comes DROP_MARGIN_MS after the second ping, so that at speed 1 the replayed
      // close (timed from the 'hello' post) also lands well after the replay client's second ping.
      if (ctx.mode === 'record') await sleep(DROP_MARGIN_MS);
      assert.equal(s1.otherSent, 0, 'the client sends nothing but pings');
      const gap = s1.pingTimes[1]! - s1.pingTimes[0]!;
      assert.ok(gap >= PING_MS - 100 && gap <= PING_MS + 600, `pings ${gap} ms apart`);
      ctx.vars.pingsBeforeDrop = s1.pings;
      return { pingsOnSocket1AtLeast2: true, socket1OpenAfterPings: true, keepAlivesSeen: true };
    },
  },
  {
    id: 'A4',
    client: 'A',
    title: 'the server drops the socket',
    statuses: [],
    activities: [],
    asserts:
      'record: emulator.dropSocket; replay: the recorded server close; socket #1 closes 1011 "server closed the stream"; the ' +
      'status stays Online',
    async run(ctx) {
      const a = ctx.a!;
      ctx.vars.watermarkAtDrop = socket(a, 1).lastWatermark;
      assert.equal(a.field('watermark'), ctx.vars.watermarkAtDrop, "the client's watermark is the last one it received");
      if (ctx.mode === 'record') ctx.emu!.dropSocket(a.field('conversationId'));
      const closed = await a.probe.waitFor(() => socket(a, 1).closed, 'socket #1 to close', 5000);
      ctx.vars.droppedAt = closed.at;
      assert.equal(a.probe.sockets.length, 1, 'no second socket yet');
      assert.equal(statusLog(a.dl).at(-1), 2, 'a drop does not change the status (reference §4.5)');
      return { closeCode: closed.code, closeReason: closed.reason, watermarkAtDrop: String(ctx.vars.watermarkAtDrop) };
    },
  },
  {
    id: 'A5',
    client: 'A',
    title: 'post while the socket is down (REST)',
    statuses: [],
    activities: [],
    asserts: 'postActivity still works (an id, not "retry") and nothing arrives: the echo and reply wait on the server',
    async run(ctx) {
      const a = ctx.a!;
      const sent = msg('while the socket is down', USER_A);
      ctx.vars.whileDown = sent;
      const id = await postAndWait(a.dl, sent);
      assert.match(id, /\|\d{7}$/, `postActivity emitted an id (${id})`);
      ctx.vars.whileDownId = id;
      await sleep(300);
      assert.equal(a.probe.sockets.length, 1, 'still no second socket');
      return { postWhileDown: true };
    },
  },
  {
    id: 'A6',
    client: 'A',
    title: "the client's own reconnect with its watermark",
    statuses: [],
    activities: ['message:user:while the socket is down', 'message:bot:You said: while the socket is down'],
    asserts:
      'GET /conversations/{id}?watermark=<watermark at the drop> ≥ 3 s after the close, then socket #2 at the proxy with that ' +
      'watermark; the missed echo and reply arrive once (typing is not stored, so it is gone)',
    async run(ctx) {
      const a = ctx.a!;
      const wm = ctx.vars.watermarkAtDrop as string;
      await a.waitFor(hasText('You said: while the socket is down'), 'the reply posted while the socket was down', 8000);
      const [reconnect, ...more] = a.probe.of('conversations.reconnect');
      assert.ok(reconnect, 'the client called GET /conversations/{id}');
      assert.equal(more.length, 0, 'exactly one reconnect');
      assert.equal(new URL(reconnect.url).searchParams.get('watermark'), wm);
      assert.equal(reconnect.status, 200);
      const delay = reconnect.at - (ctx.vars.droppedAt as number);
      assert.ok(delay >= RECONNECT_MIN_MS - 50 && delay < RECONNECT_MIN_MS + 1500, `reconnect ${delay} ms after the close`);
      const s2 = socket(a, 2);
      assert.ok(s2.openedAt, 'socket #2 opened');
      assert.ok(atProxy(ctx, s2.url), `the new streamUrl points at the proxy: ${s2.url}`);
      assert.equal(new URL(s2.url).searchParams.get('watermark'), wm, 'socket #2 resumes from the watermark');
      const echo = a.snapshot().activities.find((x) => x.text === 'while the socket is down');
      assert.equal(echo.id, ctx.vars.whileDownId, 'the echo of the post made while the socket was down');
      assertLinked(a.snapshot().activities, echo, ctx.vars.whileDown, 'You said: while the socket is down');
      return { reconnectWatermark: wm, socket2Watermark: wm, reconnectAfterMinDelay: true, socket2AtProxy: true };
    },
  },
  {
    id: 'A7',
    client: 'A',
    title: 'the conversation goes on over socket #2',
    statuses: [],
    activities: ['message:user:after the reconnect', 'typing:bot:', 'message:bot:You said: after the reconnect'],
    asserts: 'round trip on socket #2; the client pings on socket #2 too',
    async run(ctx) {
      const a = ctx.a!;
      const facts = await roundTrip(a, 'after the reconnect', USER_A, 'You said: after the reconnect');
      await a.probe.waitFor(() => socket(a, 2).pings >= 1, 'a ping on socket #2', 3000);
      return { ...facts, pingOnSocket2: true };
    },
  },
  {
    id: 'A8',
    client: 'A',
    title: 'end of conversation',
    statuses: [5],
    activities: ['message:user:end', 'endOfConversation:bot:'],
    asserts: "'end' → endOfConversation; end() → Ended; socket #2 closed by the client; every activity once, the stored history complete",
    async run(ctx) {
      const a = ctx.a!;
      await endClient(a);
      const s2 = await a.probe.waitFor(() => socket(a, 2).closed, 'socket #2 to close');
      assert.equal(a.probe.sockets.length, 2, 'two sockets in all');
      await assertNothingLostOrDuplicated(ctx, a.field('conversationId'), a.snapshot().activities);
      return { socket2Closed: s2.code === 1005 || s2.code === 1000, sockets: a.probe.sockets.length };
    },
  },

  // ---- B: token, polling, refresh ----------------------------------------------------------------------
  {
    id: 'B1',
    client: 'B',
    title: 'start with a token from tokens/generate (polling)',
    statuses: [0, 1, 2],
    activities: [WELCOME],
    asserts: 'tokens/generate (secret) → token; POST /conversations with that token; GET …/activities polls; no WebSocket',
    async run(ctx) {
      const gen = await fetch(`${ctx.domain}/tokens/generate`, {
        method: 'POST',
        headers: { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json' },
        body: JSON.stringify({ user: { id: USER_B } }),
      });
      assert.equal(gen.status, 200);
      const { token } = (await gen.json()) as { token: string };
      const b = new NodeClient(ctx.domain, USER_B, {
        token,
        webSocket: false,
        pollingInterval: 200,
        scheduler: refreshWarpScheduler(REFRESH_WARP_MS),
      });
      ctx.b = b;
      await b.waitFor(hasText('Welcome to the emulator bot!'), 'the welcome');
      const [start] = b.probe.requests;
      assert.equal(start?.route, 'conversations.start');
      assert.equal(start.bearer, token, 'the conversation starts with the generated token');
      assert.ok(b.probe.of('activities.get').length >= 1, 'the client polls');
      assert.equal(b.probe.sockets.length, 0, 'no WebSocket in polling mode');
      // Online (and the refresh timer's start) follows the start answer at once.
      ctx.vars.onlineAt = start.doneAt;
      ctx.vars.startToken = b.field('token');
      assert.notEqual(ctx.vars.startToken, token, 'the client took the token of the start response');
      return { startRoute: start.route, startStatus: start.status ?? 0, polling: true, sockets: 0 };
    },
  },
  {
    id: 'B2',
    client: 'B',
    title: "token refresh (the client's own timer; 15 min warped to 1 s)",
    statuses: [],
    activities: [],
    asserts:
      "two POST /tokens/refresh, each with the token then current as bearer; each answer becomes the client's token; no ExpiredToken",
    async run(ctx) {
      const b = ctx.b!;
      const refreshes = await b.probe.waitFor(
        () => {
          const r = b.probe.of('tokens.refresh');
          return r.length >= 2 && r[1]!.status !== undefined ? r : undefined;
        },
        'two token refreshes',
        4000,
      );
      const [r1, r2] = refreshes;
      assert.equal(r1!.status, 200);
      assert.equal(r2!.status, 200);
      assert.equal(r1!.bearer, ctx.vars.startToken, 'the first refresh is made with the start token');
      assert.ok(r2!.bearer && r2!.bearer !== r1!.bearer, 'the second refresh is made with the token the first one returned');
      assert.match(r1!.botAgent ?? '', /^DirectLine\/3\.0 \(directlinejs 0\.15\.8\)$/);
      const since = r1!.at - (ctx.vars.onlineAt as number);
      assert.ok(
        since >= REFRESH_WARP_MS - 100 && since < REFRESH_WARP_MS + 500,
        `first refresh ${since} ms after Online: the (warped) 15-min timer`,
      );
      await b.probe.waitFor(
        () => b.field('token') !== r2!.bearer && b.field('token'),
        'the client to take the second refresh answer',
        2000,
      );
      return { refreshes: 2, refreshBearerChain: true, tokenReplaced: true };
    },
  },
  {
    id: 'B3',
    client: 'B',
    title: 'polling goes on with the refreshed token after the first one expired',
    statuses: [],
    activities: ['message:user:hello', 'message:bot:You said: hello'],
    asserts:
      `post after ${TOKEN_TTL_MS} ms (the emulator's token lifetime in the record run) with the latest refreshed token; polls ` +
      'carry refreshed tokens; no typing in polling mode',
    async run(ctx) {
      const b = ctx.b!;
      const wait = (ctx.vars.onlineAt as number) + TOKEN_TTL_MS + 200 - Date.now();
      if (wait > 0) await sleep(wait);
      const facts = await roundTrip(b, 'hello', USER_B, 'You said: hello');
      const post = b.probe.of('activities.post').at(-1)!;
      // Tokens the refreshes returned: each later refresh is made with the previous answer; the last one is held.
      const refreshedTokens = new Set([
        ...b.probe
          .of('tokens.refresh')
          .slice(1)
          .map((r) => r.bearer),
        b.field('token'),
      ]);
      assert.ok(refreshedTokens.has(post.bearer), 'the post carries a token a refresh returned');
      const lastPoll = b.probe.of('activities.get').at(-1)!;
      assert.ok(refreshedTokens.has(lastPoll.bearer), 'polls carry a token a refresh returned');
      assert.equal(lastPoll.status, 200);
      if (ctx.mode === 'record') {
        // The start token is dead by now: only the refresh kept the client going.
        const res = await fetch(`${ctx.emu!.domain}/conversations/${b.field('conversationId')}/activities`, {
          headers: { authorization: `Bearer ${ctx.vars.startToken}` },
        });
        assert.equal(res.status, 403, 'the emulator refuses the start token (expired)');
        await res.body?.cancel();
      }
      return { ...facts, postWithRefreshedToken: true, pollsWithRefreshedToken: true };
    },
  },
  {
    id: 'B4',
    client: 'B',
    title: 'end of conversation (polling)',
    statuses: [5],
    activities: ['message:user:end', 'endOfConversation:bot:'],
    asserts: "'end' → endOfConversation; end() → Ended; polling and refreshing stop; every activity once, the stored history complete",
    async run(ctx) {
      const b = ctx.b!;
      await endClient(b);
      await sleep(300);
      const polls = b.probe.of('activities.get').length;
      const refreshes = b.probe.of('tokens.refresh').length;
      await sleep(REFRESH_WARP_MS + 300);
      assert.equal(b.probe.of('activities.get').length, polls, 'no poll after end()');
      assert.equal(b.probe.of('tokens.refresh').length, refreshes, 'no refresh after end()');
      await assertNothingLostOrDuplicated(ctx, b.field('conversationId'), b.snapshot().activities);
      return { pollingStopped: true, refreshStopped: true };
    },
  },

  // ---- C: Chromium, upload ---------------------------------------------------------------------------
  {
    id: 'C1',
    client: 'C',
    title: 'start with a secret in Chromium (dist/directline.js, WebSocket)',
    statuses: [0, 1, 2],
    activities: [WELCOME],
    asserts: 'the browser build of the same client version, cross-origin (CORS) from a loopback page',
    async run(ctx) {
      const c = await BrowserClient.start(ctx.browser, ctx.pageUrl, { domain: ctx.domain, secret: SECRET, webSocket: true });
      ctx.c = c;
      await c.waitForActivities(hasText('Welcome to the emulator bot!'), 'the welcome');
      ctx.vars.conversationC = await c.field('conversationId');
      const xhr = await c.xhr();
      assert.equal(xhr[0]?.method, 'POST');
      assert.equal(xhr[0]?.url, `${ctx.domain}/conversations`);
      return { startedInChromium: true };
    },
  },
  {
    id: 'C2',
    client: 'C',
    title: 'upload with an attachment',
    statuses: [],
    activities: [`message:user:here is a file [${FILE.name} ${FILE.type}]`, 'typing:bot:', 'message:bot:Received 1 attachment(s)'],
    asserts:
      'the client GETs the blob: contentUrl, then POSTs multipart to …/upload?userId=: an activity part ' +
      '(application/vnd.microsoft.activity, attachment without contentUrl) and the file part with its bytes; postActivity ' +
      'emits the echo id',
    async run(ctx) {
      const c = ctx.c!;
      const sent = { type: 'message', text: 'here is a file', from: { id: USER_C }, channelData: { clientActivityID: cid() } };
      const { id, contentUrl } = await c.postWithFile(sent, FILE);
      assert.notEqual(id, 'retry', 'the upload was sent and answered');
      const snap = await c.waitForActivities(hasText('Received 1 attachment(s)'), "the bot's 'Received 1 attachment(s)'");
      const echo = snap.activities.find((a) => a.text === 'here is a file');
      assert.equal(echo.id, id, 'postActivity emitted the id of the echo');
      assertLinked(snap.activities, echo, sent, 'Received 1 attachment(s)');
      assert.equal(echo.attachments.length, 1);
      assert.equal(typeof echo.attachments[0].contentUrl, 'string');
      assert.notEqual(echo.attachments[0].contentUrl, contentUrl, "the echo carries the service's URL, not the page's blob:");
      const xhr = await c.xhr();
      const conversationId = await c.field('conversationId');
      const get = xhr.findIndex((x) => x.method === 'GET' && x.url === contentUrl);
      const upload = xhr.findIndex(
        (x) => x.method === 'POST' && x.url === `${ctx.domain}/conversations/${conversationId}/upload?userId=${USER_C}`,
      );
      assert.ok(get >= 0, "the client fetched the attachment's contentUrl");
      assert.equal(xhr[get]!.status, 200);
      assert.ok(upload > get, 'then posted the upload');
      assert.equal(xhr[upload]!.status, 200);
      assert.ok(!xhr.some((x) => x.method === 'POST' && x.url.endsWith('/activities') && x.parts), 'no FormData went to /activities');
      const parts = xhr[upload]!.parts ?? [];
      assert.deepEqual(
        parts.map((p) => [p.name, p.filename ?? null, p.type ?? null]),
        [
          ['activity', 'blob', 'application/vnd.microsoft.activity'],
          ['file', FILE.name, FILE.type],
        ],
      );
      const template = JSON.parse(parts[0]!.text);
      assert.equal(template.text, 'here is a file');
      assert.deepEqual(
        template.attachments,
        [{ contentType: FILE.type, name: FILE.name }],
        'the activity part has the attachment without its contentUrl',
      );
      assert.equal(parts[1]!.text, FILE.content, 'the file part carries the bytes behind the blob: URL');
      if (ctx.mode === 'record') {
        // The emulator serves the stored file behind the echo's contentUrl.
        const res = await fetch(echo.attachments[0].contentUrl);
        assert.equal(await res.text(), FILE.content);
      }
      // Where the echo's contentUrl points and what it serves now (checked by the todo test in lifecycle.test.ts).
      ctx.vars.attachment = { url: echo.attachments[0].contentUrl, ...(await tryFetch(echo.attachments[0].contentUrl)) };
      return {
        blobContentUrlFetched: true,
        multipartUpload: parts.map((p) => p.name).join('+'),
        postActivityEmittedEchoId: true,
        echoCarriesClientActivityId: true,
        replyToEcho: true,
      };
    },
  },
  {
    id: 'C3',
    client: 'C',
    title: 'end of conversation (Chromium)',
    statuses: [5],
    activities: ['message:user:end', 'endOfConversation:bot:'],
    asserts: "'end' → endOfConversation; end() → Ended; no page errors; every activity once, the stored history complete",
    async run(ctx) {
      const c = ctx.c!;
      const sent = { type: 'message', text: 'end', from: { id: USER_C }, channelData: { clientActivityID: cid() } };
      const id = await c.post(sent);
      assert.notEqual(id, 'retry');
      const acts = (await c.waitForActivities(hasType('endOfConversation'), 'endOfConversation')).activities;
      assertLinked(
        acts,
        acts.find((a) => a.id === id),
        sent,
        'endOfConversation',
      );
      await c.end();
      const snap = await c.snapshot();
      assert.deepEqual(c.pageErrors, [], 'no page errors');
      await assertNothingLostOrDuplicated(ctx, await c.field('conversationId'), snap.activities);
      return { endedInChromium: true };
    },
  },
];
