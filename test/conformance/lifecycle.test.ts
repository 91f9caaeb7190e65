// botframework-directlinejs conformance: the client's full lifecycle (scenario.ts) run twice — (1) through
// the recorder against the emulator, (2) against the replay of that very cassette with the emulator closed,
// at speed 1 (recorded timing: the recorded server close must land between the pings and the post made
// while the socket is down, as it did live). Each step asserts its own statuses, activities and facts in
// both runs, and the replay run must have seen exactly what the record run saw, step by step.
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { startRecorder } from '../../src/record/recorder.js';
import { startReplayer } from '../../src/replay/index.js';
import { loadCassette } from '../../src/cassette/load.js';
import { createLogger } from '../../src/log.js';
import type { HttpEvent, WsCloseEvent, WsMessageEvent, WsOpenEvent } from '../../src/cassette/schema.js';
import { startEmulator } from '../emulator/index.js';
import { endDirectLine } from '../support/directline-client.js';
import { launchChromium } from '../browser/support.js';
import { startPageServer, type PageServer } from './browser-client.js';
import { FILE, SCENARIO, SECRET, TOKEN_TTL_MS, comparable, shape, type ClientName, type Ctx, type Mode, type Seen } from './scenario.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const CASSETTE = `${ARTIFACTS}conformance-lifecycle.json`;
/** Server keep-alives in the record run (the service's interval is undocumented, reference §2.2). */
const KEEPALIVE_MS = 700;

let browser: Browser | undefined;
let pages: PageServer | undefined;
const seen: Record<Mode, Map<string, Seen>> = { record: new Map(), replay: new Map() };
const ms: Record<Mode, Map<string, number>> = { record: new Map(), replay: new Map() };
/** Step C2's attachment: the echo's contentUrl, the proxy's origin, and what fetching the URL gave. */
const attachment: Partial<Record<Mode, { url: string; proxy: string; status?: number; text?: string; error?: string }>> = {};

before(async () => {
  browser = await launchChromium();
  pages = await startPageServer();
});

after(async () => {
  await pages?.close();
  await browser?.close();
});

async function view(ctx: Ctx, client: ClientName): Promise<{ statuses: number[]; activities: any[] }> {
  if (client === 'A') return ctx.a?.snapshot() ?? { statuses: [], activities: [] };
  if (client === 'B') return ctx.b?.snapshot() ?? { statuses: [], activities: [] };
  return ctx.c ? ctx.c.snapshot() : { statuses: [], activities: [] };
}

/** Runs the table; a failed step skips the rest (they build on it). */
async function runScenario(t: TestContext, ctx: Ctx): Promise<void> {
  let failed: string | null = null;
  for (const step of SCENARIO) {
    await t.test(`${step.id} ${step.title}`, { skip: failed ? `step ${failed} failed` : false }, async (st) => {
      try {
        const start = await view(ctx, step.client);
        const t0 = Date.now();
        const facts = await step.run(ctx);
        const end = await view(ctx, step.client);
        ms[ctx.mode].set(step.id, Date.now() - t0);
        const s: Seen = {
          statuses: end.statuses.slice(start.statuses.length),
          activities: end.activities.slice(start.activities.length).map(shape),
          facts,
          bodies: end.activities.slice(start.activities.length).map((a) => comparable(a, end.activities, ctx.origin)),
        };
        seen[ctx.mode].set(step.id, s);
        st.diagnostic(
          `${ctx.mode} ${step.id}: ${ms[ctx.mode].get(step.id)} ms, statuses ${JSON.stringify(s.statuses)}, ` +
            `activities ${JSON.stringify(s.activities)}, facts ${JSON.stringify(facts)}`,
        );
        assert.deepEqual(s.statuses, step.statuses, `${step.id}: connection statuses`);
        assert.deepEqual(s.activities, step.activities, `${step.id}: activities`);
        if (ctx.mode === 'replay') {
          assert.deepEqual(s, seen.record.get(step.id), `${step.id}: the replay client saw what the record client saw`);
        }
      } catch (err) {
        failed = step.id;
        throw err;
      }
    });
  }
  if (ctx.vars.attachment) attachment[ctx.mode] = { ...ctx.vars.attachment, proxy: ctx.origin };
  if (failed) throw new Error(`the ${ctx.mode} run stopped at step ${failed}`);
}

/** Ends whatever a failed run left open. */
async function teardown(ctx: Ctx): Promise<void> {
  for (const client of [ctx.a, ctx.b]) {
    if (client && client.snapshot().statuses.at(-1) !== 5) {
      try {
        endDirectLine(client.dl);
      } catch {
        /* already ended */
      }
    }
  }
  await ctx.c?.close().catch(() => {});
}

async function getJson(url: string): Promise<any> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${SECRET}` } });
  assert.equal(res.status, 200, `GET ${url}`);
  return res.json();
}

describe('botframework-directlinejs lifecycle through record and replay', () => {
  it('record: the scenario through the recorder against the emulator', { timeout: 45_000 }, async (t) => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await rm(CASSETTE, { force: true });
    const emu = await startEmulator({ keepAliveMs: KEEPALIVE_MS, tokenTtlMs: TOKEN_TTL_MS });
    const rec = await startRecorder({ upstream: emu.domain, cassette: CASSETTE });
    const ctx: Ctx = {
      mode: 'record',
      domain: rec.domain,
      origin: rec.url,
      emu,
      browser: browser!,
      pageUrl: pages!.url,
      vars: {},
      // The emulator's own store, read directly (not through the recorder: nothing extra in the cassette).
      history: async (id) => (await getJson(`${emu.domain}/conversations/${encodeURIComponent(id)}/activities`)).activities,
    };
    const began = Date.now();
    try {
      await runScenario(t, ctx);
    } finally {
      await teardown(ctx);
      await rec.close();
      await emu.close();
    }
    t.diagnostic(`record run: ${Date.now() - began} ms`);

    await t.test(
      'the cassette holds the lifecycle: client pings, the server close, the reconnect, refreshes, the upload; no secret or token',
      async () => {
        const text = readFileSync(CASSETTE, 'utf8');
        assert.ok(!text.includes(SECRET), 'the secret is redacted');
        for (const token of emu.issuedTokens()) assert.ok(!text.includes(token), 'every issued token is redacted');
        const cassette = await loadCassette(CASSETTE);
        const conversations = [...new Set(cassette.events.map((e) => e.conversationId).filter((c): c is string => c !== null))];
        assert.equal(conversations.length, 3);
        const [convA, convB, convC] = [ctx.a!.field('conversationId'), ctx.b!.field('conversationId'), ctx.vars.conversationC as string];
        assert.deepEqual(conversations, [convA, convB, convC]);
        const of = (conv: string) => cassette.events.filter((e) => e.conversationId === conv);
        const http = (conv: string, route: string) => of(conv).filter((e): e is HttpEvent => e.type === 'http' && e.route === route);

        // A: every '' the client sent is in the cassette, per socket, and the server's close of socket #1.
        const opens = of(convA).filter((e): e is WsOpenEvent => e.type === 'ws.open');
        assert.equal(opens.length, 2);
        const pings = (socket: number) =>
          of(convA).filter((e): e is WsMessageEvent => e.type === 'ws.message' && e.socket === socket && e.from === 'client');
        for (const [i, open] of opens.entries()) {
          const frames = pings(open.socket);
          assert.ok(
            frames.every((f) => 'text' in f.data && f.data.text === ''),
            'the client sent only empty frames',
          );
          assert.equal(frames.length, ctx.a!.probe.sockets[i]!.pings, `socket #${i + 1}: every client ping was recorded`);
        }
        assert.ok(pings(opens[0]!.socket).length >= 2);
        const keepAlives = of(convA).filter(
          (e) => e.type === 'ws.message' && e.from === 'server' && 'text' in e.data && e.data.text === '',
        );
        assert.ok(keepAlives.length >= 2, 'server keep-alives recorded');
        const closes = of(convA).filter((e): e is WsCloseEvent => e.type === 'ws.close');
        assert.deepEqual(
          closes.map((c) => [c.socket, c.by, c.code]),
          [
            [opens[0]!.socket, 'server', 1011],
            [opens[1]!.socket, 'client', 1005],
          ],
        );
        const [reconnect] = http(convA, 'conversations.reconnect');
        assert.equal(reconnect?.request.query.watermark, ctx.vars.watermarkAtDrop);
        assert.equal(opens[1]!.query.watermark, ctx.vars.watermarkAtDrop);
        assert.deepEqual(
          http(convA, 'activities.post').map((e) => (e.request.body as { json: any }).json.text),
          ['hello', 'while the socket is down', 'after the reconnect', 'end'],
        );

        // B: the refreshes, each with the previous token's placeholder as bearer.
        const refreshes = http(convB, 'tokens.refresh');
        assert.equal(refreshes.length, ctx.b!.probe.of('tokens.refresh').length);
        assert.ok(refreshes.length >= 2 && refreshes.every((e) => e.response?.status === 200));
        assert.ok(!of(convB).some((e) => e.type === 'ws.open'), 'no stream in polling mode');

        // C: the multipart upload (the blob: GET stays in the browser).
        const [upload, ...others] = http(convC, 'upload');
        assert.equal(others.length, 0);
        assert.equal(upload!.response?.status, 200);
        assert.match(upload!.request.headers['content-type'] ?? '', /^multipart\/form-data; boundary=/);
      },
    );
  });

  it('replay: the same scenario against the replay of that cassette, emulator closed (speed 1)', { timeout: 45_000 }, async (t) => {
    assert.equal(seen.record.size, SCENARIO.length, 'the record run completed (it makes the cassette this run replays)');
    const lines: string[] = [];
    const logger = createLogger({
      level: 'debug',
      destination: {
        write: (line: string) => {
          lines.push(line);
        },
      },
    });
    const replayer = await startReplayer({ cassette: CASSETTE, speed: 1, logger });
    const ctx: Ctx = {
      mode: 'replay',
      domain: replayer.domain,
      origin: replayer.url,
      emu: null,
      browser: browser!,
      pageUrl: pages!.url,
      vars: {},
      // What the replayer serves a poll of that conversation: the released history.
      history: async (id) => (await getJson(`${replayer.domain}/conversations/${encodeURIComponent(id)}/activities`)).activities,
    };
    const began = Date.now();
    try {
      await runScenario(t, ctx);
    } finally {
      await teardown(ctx);
      await replayer.close();
    }
    t.diagnostic(`replay run: ${Date.now() - began} ms`);

    await t.test('the replayer matched everything and accepted every client ping', () => {
      const summary = replayer.summary();
      assert.equal(summary.unmatched, 0, JSON.stringify(summary.unmatchedRequests, null, 2));
      assert.equal(summary.conversations, 3);
      const ignored = lines
        .map((l) => JSON.parse(l) as Record<string, any>)
        .filter((l) => l.msg === 'client frame ignored' && l.session === 1);
      const sent = ctx.a!.probe.sockets.map((s) => s.pings);
      assert.deepEqual(
        [1, 2].map((socket) => ignored.filter((l) => l.socket === socket && l.bytes === 0).length),
        sent,
        'every empty frame the client sent reached the replayer, per socket',
      );
      assert.ok(!ignored.some((l) => l.bytes !== 0), 'the client sent nothing but pings');
    });
  });

  // Reference §6 trap 15: the recorder rewrites contentUrls on the upstream's origin to its own (as it does for
  // streamUrls) and records the GETs; the replayer points them at itself and serves them from the cassette.
  it("upload: the echo's attachment contentUrl goes through the proxy and still serves the file in the replay", () => {
    const rec = attachment.record;
    const rep = attachment.replay;
    assert.ok(rec && rep, 'both runs reached step C2');
    assert.equal(new URL(rec.url).origin, rec.proxy, `recording: the echo's contentUrl ${rec.url} bypasses the recorder (${rec.proxy})`);
    assert.equal(new URL(rep.url).origin, rep.proxy, `replay: the echo's contentUrl ${rep.url} is not on the replayer (${rep.proxy})`);
    assert.equal(
      rep.text,
      FILE.content,
      `replay: fetching the contentUrl gave ${JSON.stringify({ status: rep.status, error: rep.error })}`,
    );
  });
});
