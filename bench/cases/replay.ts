// 5. Replay. (a) HTTP: throughput of startReplayer serving a cassette of 500 distinct recorded requests
// (500 recorded conversations.start, instant speed) next to a plain node:http server answering a
// constant. (b) Timing: error of stream frames (replayed gap − recorded gap / speed) at speed 1, with 1
// and with 500 concurrent sessions, next to a plain ws server sending the same gaps with setTimeout.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import WebSocket from 'ws';
import { startChild, type Child } from '../lib/child.js';
import { fmt, table, targetsTable, x } from '../lib/md.js';
import { START_BODY, conversationsCassette, postBody, timingCassette } from '../lib/replay-cassettes.js';
import { median, ratio, rotation, round, summarize } from '../lib/stats.js';
import { barChart } from '../lib/svg.js';
import type { BenchCase, BenchResult } from '../lib/types.js';

// 20 recorded conversations × (conversations.start + 24 activities.post) = 500 distinct recorded requests.
const CONVERSATIONS = 20;
const POSTS = 24;
const RECORDED_REQUESTS = CONVERSATIONS * (1 + POSTS);
const CONNECTIONS = 32;
const DURATION_S = 2;
const HTTP_MODES = ['plain', 'replay'] as const;
type HttpMode = (typeof HTTP_MODES)[number];
interface HttpRun {
  mode: HttpMode;
  round: number;
  reqPerSec: number;
  p50: number;
  p99: number;
  non2xx: number;
  cpuUs: number;
  unmatched?: number;
}

// Recorded gaps (ms) between stream frames. For 500 sessions the first frame comes 1.2 s after the stream
// opens, so that every session is connected before frames flow (the connection storm is not what is
// measured); the first gap is never counted. One session gets more, shorter gaps (more samples in the
// same time); 500 sessions get fewer, longer ones (≈ 6,000 frames/s in all).
const cycle = (pattern: number[], n: number) => Array.from({ length: n }, (_, i) => pattern[i % pattern.length]);
const GAPS_FOR: Record<number, number[]> = {
  1: [300, ...cycle([5, 10, 20, 40, 15, 30, 8, 25], 64)],
  500: [1200, ...cycle([20, 50, 100, 200, 80, 30, 150, 60], 16)],
  1000: [2000, ...cycle([40, 100, 200, 160, 60, 300, 120], 12)],
};
const SESSIONS = [1, 500, 1000] as const;
/** Allowed |error| p99 above the setTimeout floor measured in the same run (1 session: an absolute 3 ms). */
const OVER_FLOOR: Record<number, number> = { 500: 2, 1000: 5 };
const TIMING_MODES = ['setTimeout', 'replay'] as const;
type TimingMode = (typeof TIMING_MODES)[number];
interface TimingRun {
  mode: TimingMode;
  sessions: number;
  round: number;
  gaps: number;
  p50: number;
  p99: number;
  max: number;
  meanAbs: number;
}

/**
 * Each connection plays a client: it starts a conversation (the replayer gives it the next recorded one),
 * posts its 24 messages in order with the token it got, then starts the next conversation, and so on.
 */
let clientIds = 0;
export async function hammer(url: string, duration: number): Promise<autocannon.Result> {
  type Ctx = { conversationId?: string; token?: string };
  const json = { 'content-type': 'application/json' };
  return autocannon({
    url: url + '/v3/directline/conversations',
    connections: CONNECTIONS,
    duration,
    requests: [
      {
        method: 'POST',
        path: '/v3/directline/conversations',
        headers: { ...json, authorization: 'Bearer bench-secret' },
        body: JSON.stringify(START_BODY),
        onResponse: (_status: number, body: string, context: Ctx) => {
          try {
            const b = JSON.parse(body) as { conversationId?: string; token?: string };
            context.conversationId = b.conversationId;
            context.token = b.token;
          } catch {
            /* counted as non-2xx by autocannon when it matters */
          }
        },
      },
      ...Array.from({ length: POSTS }, (_, k) => ({
        method: 'POST' as const,
        setupRequest: (req: autocannon.Request, context: Ctx) => ({
          ...req,
          path: `/v3/directline/conversations/${context.conversationId ?? 'plain'}/activities`,
          headers: { ...json, authorization: `Bearer ${context.token ?? 'plain'}` },
          body: JSON.stringify(postBody(k, `live-${++clientIds}`)),
        }),
      })),
    ],
  });
}

export const replayHttp: BenchCase = {
  name: 'replay-http',
  title: '5a. HTTP replay',
  async run(ctx) {
    const dir = mkdtempSync(join(tmpdir(), 'dlvcr-bench-replay-'));
    const starts = join(dir, 'starts.json');
    writeFileSync(starts, JSON.stringify(conversationsCassette(CONVERSATIONS, POSTS)));
    const runs: HttpRun[] = [];
    const plain = await startChild<{ url: string }>('servers/http-upstream.ts');
    const replayer = await startChild<{ url: string; domain: string }>(
      'servers/replayer.ts',
      { cassette: starts, speed: 0 },
      { product: true },
    );
    try {
      const urlOf = async (m: HttpMode) => (m === 'plain' ? plain.info.url : (await replayer.call<{ url: string }>('start')).url);
      for (const m of HTTP_MODES) await hammer(await urlOf(m), 0.5);
      for (let r = 0; r < ctx.rounds; r++) {
        for (const m of rotation(HTTP_MODES, r)) {
          const url = await urlOf(m);
          const proc = m === 'plain' ? plain : replayer;
          const c0 = await proc.cpu();
          const res = await hammer(url, DURATION_S);
          const c1 = await proc.cpu();
          const run: HttpRun = {
            mode: m,
            round: r,
            reqPerSec: res.requests.total / res.duration,
            p50: res.latency.p50,
            p99: res.latency.p99,
            non2xx: res.non2xx,
            cpuUs: (c1.user - c0.user + c1.system - c0.system) / res.requests.total,
          };
          if (m === 'replay') run.unmatched = (await replayer.call<{ unmatched: number }>('summary')).unmatched;
          runs.push(run);
          ctx.log(
            `  round ${r + 1} ${m.padEnd(7)} ${fmt(run.reqPerSec, 0).padStart(7)} req/s  p50 ${run.p50} ms  p99 ${run.p99} ms  ` +
              `${fmt(run.cpuUs, 0)} µs CPU/request  non-2xx ` +
              `${run.non2xx}${run.unmatched !== undefined ? `  unmatched ${run.unmatched}` : ''}`,
          );
        }
      }
    } finally {
      await Promise.all([plain.stop(), replayer.stop()]);
      rmSync(dir, { recursive: true, force: true });
    }
    const rps = (m: HttpMode) => round(median(runs.filter((h) => h.mode === m).map((h) => h.reqPerSec)), 0);
    const p99 = (m: HttpMode) => median(runs.filter((h) => h.mode === m).map((h) => h.p99));
    const cpu = (m: HttpMode) => round(median(runs.filter((h) => h.mode === m).map((h) => h.cpuUs)), 1);
    const httpRatio = median(
      Array.from({ length: ctx.rounds }, (_, r) =>
        ratio(
          runs.find((h) => h.round === r && h.mode === 'replay')!.reqPerSec,
          runs.find((h) => h.round === r && h.mode === 'plain')!.reqPerSec,
        ),
      ),
    );
    const bad = runs.filter((h) => h.mode === 'replay' && (h.non2xx > 0 || (h.unmatched ?? 0) > 0)).length;
    return {
      config: {
        recordedRequests: RECORDED_REQUESTS,
        recordedConversations: CONVERSATIONS,
        postsPerConversation: POSTS,
        connections: CONNECTIONS,
        durationSeconds: DURATION_S,
        workload:
          'each connection: POST /conversations (a session on the next recorded conversation, cycling), then its 24 POST ' +
          '…/activities in order with the token it got, repeat',
        speed: 'instant (0)',
        replayer: 'startReplayer in a child process, fresh for every run',
        plain: 'node:http server answering a constant JSON body (bench/servers/http-upstream.ts)',
      },
      rounds: runs,
      summary: {
        plain: { reqPerSec: rps('plain'), p99: p99('plain'), cpuUs: cpu('plain') },
        replay: { reqPerSec: rps('replay'), p99: p99('replay'), cpuUs: cpu('replay') },
        ratio: round(httpRatio, 3),
      },
      targets: [
        { what: 'replay req/s vs plain node:http constant server', target: '≥ 0.8×', measured: x(httpRatio), met: httpRatio >= 0.8 },
        {
          what: 'every replayed request matched (2xx, no mismatch)',
          target: 'all',
          measured: bad ? `${bad} run(s) with mismatches` : 'all',
          met: bad === 0,
        },
      ],
      notes: [],
    };
  },
  render(res: BenchResult) {
    const s = res.summary as {
      plain: { reqPerSec: number; p99: number; cpuUs: number };
      replay: { reqPerSec: number; p99: number; cpuUs: number };
      ratio: number;
    };
    const markdown = [
      `${res.config.connections as number} connections, ${res.config.durationSeconds as number} s runs, speed instant. The ` +
        `cassette holds ${res.config.recordedRequests as number} distinct recorded requests: ` +
        `${res.config.recordedConversations as number} conversations, each conversations.start + ` +
        `${res.config.postsPerConversation as number} activities.post. Each connection plays a client: start a conversation, ` +
        `post its ${res.config.postsPerConversation as number} messages in order with the token it got, repeat. The plain server ` +
        'gets the same requests.',
      '',
      table(
        ['server', 'req/s (median)', 'vs plain', 'p99 ms', 'server CPU µs/request'],
        [
          ['plain node:http constant (limit)', fmt(s.plain.reqPerSec, 0), '1×', fmt(s.plain.p99), fmt(s.plain.cpuUs, 0)],
          ['startReplayer', fmt(s.replay.reqPerSec, 0), x(s.ratio), fmt(s.replay.p99), fmt(s.replay.cpuUs, 0)],
        ],
      ),
      '',
      targetsTable(res.targets),
      '',
      '![HTTP replay](bench/results/replay-http.svg)',
    ].join('\n');
    const svg = barChart({
      title: 'HTTP replay, 500 recorded requests (median req/s)',
      unit: 'req/s',
      bars: [
        { label: 'plain constant server', value: s.plain.reqPerSec, text: `${fmt(s.plain.reqPerSec, 0)} req/s`, kind: 'ref' },
        {
          label: 'replay',
          value: s.replay.reqPerSec,
          text: `${fmt(s.replay.reqPerSec, 0)} req/s`,
          kind: res.targets[0].met ? 'ok' : 'miss',
        },
      ],
      target: { value: 0.8 * s.plain.reqPerSec, label: '0.8× plain' },
    });
    return { markdown, charts: [{ file: 'replay-http.svg', svg }] };
  },
};

/** Opens one stream and returns the arrival time of each of `count` frames. */
function receive(url: string, count: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const at: number[] = [];
    const ws = new WebSocket(url);
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`${at.length} of ${count} frames`));
    }, 30_000);
    ws.on('message', () => {
      at.push(performance.now());
      if (at.length === count) {
        clearTimeout(timer);
        ws.close();
        resolve(at);
      }
    });
    ws.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** Gap errors (ms) of `sessions` concurrent streams: arrival gap − recorded gap, consecutive frames. */
async function timing(mode: TimingMode, sessions: number, target: { wsUrl?: string; domain?: string }): Promise<number[]> {
  const gaps = GAPS_FOR[sessions];
  const runs = await Promise.all(
    Array.from({ length: sessions }, async (_, i) => {
      let url: string;
      if (mode === 'replay') {
        const res = await fetch(`${target.domain}/conversations`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'Bearer bench-secret' },
          body: JSON.stringify(START_BODY),
        });
        if (res.status !== 201) throw new Error(`conversations.start → ${res.status}`);
        url = ((await res.json()) as { streamUrl: string }).streamUrl;
      } else {
        url = `${target.wsUrl}/v3/directline/conversations/timing-${i}/stream?gaps=${gaps.join(',')}`;
      }
      return receive(url, gaps.length);
    }),
  );
  const errors: number[] = [];
  for (const at of runs) for (let k = 1; k < at.length; k++) errors.push(at[k] - at[k - 1] - gaps[k]);
  return errors;
}

export const replayTiming: BenchCase = {
  name: 'replay-timing',
  title: '5b. Replay timing',
  async run(ctx) {
    const dir = mkdtempSync(join(tmpdir(), 'dlvcr-bench-timing-'));
    const runs: TimingRun[] = [];
    const children: Child<{ url: string; domain?: string }>[] = [];
    try {
      const upstream = await startChild<{ url: string }>('servers/ws-upstream.ts');
      children.push(upstream);
      const timers = new Map<number, Child<{ url: string; domain: string }>>();
      for (const n of SESSIONS) {
        const file = join(dir, `timing-${n}.json`);
        writeFileSync(file, JSON.stringify(timingCassette(GAPS_FOR[n])));
        const c = await startChild<{ url: string; domain: string }>('servers/replayer.ts', { cassette: file, speed: 1 }, { product: true });
        timers.set(n, c);
        children.push(c);
      }
      await timing('replay', 1, { domain: (await timers.get(1)!.call<{ domain: string }>('start')).domain }); // warm-up
      for (let r = 0; r < ctx.rounds; r++) {
        for (const sessions of SESSIONS) {
          for (const m of rotation(TIMING_MODES, r)) {
            const target =
              m === 'replay'
                ? { domain: (await timers.get(sessions)!.call<{ domain: string }>('start')).domain }
                : { wsUrl: upstream.info.url };
            const errors = await timing(m, sessions, target);
            const s = summarize(errors);
            const abs = summarize(errors.map(Math.abs));
            runs.push({ mode: m, sessions, round: r, gaps: s.n, p50: s.p50, p99: abs.p99, max: abs.max, meanAbs: abs.mean });
            ctx.log(
              `  round ${r + 1} ${m.padEnd(10)} ${String(sessions).padStart(3)} session(s): gap error p50 ${fmt(s.p50)} ms, ` +
                `|error| p99 ${fmt(abs.p99)} ms, max ${fmt(abs.max)} ms (${s.n} gaps)`,
            );
          }
        }
      }
    } finally {
      await Promise.all(children.map((c) => c.stop()));
      rmSync(dir, { recursive: true, force: true });
    }
    const t = (m: TimingMode, n: number) => {
      const rs = runs.filter((x) => x.mode === m && x.sessions === n);
      return {
        p50: round(median(rs.map((x) => x.p50)), 3),
        p99: round(median(rs.map((x) => x.p99)), 3),
        max: round(median(rs.map((x) => x.max)), 3),
      };
    };
    const summary = Object.fromEntries(SESSIONS.map((n) => [n, Object.fromEntries(TIMING_MODES.map((m) => [m, t(m, n)]))])) as Record<
      number,
      Record<TimingMode, { p50: number; p99: number; max: number }>
    >;
    return {
      config: {
        speed: 1,
        gapsMs: GAPS_FOR,
        sessions: SESSIONS,
        replayer: 'startReplayer in a child process, fresh for every run',
        baseline: 'ws server sending the same gaps with one setTimeout per frame (bench/servers/ws-upstream.ts ?gaps=)',
        clients: 'in the runner process',
        errors: 'per consecutive frame pair: arrival gap at the client − recorded gap; p50 signed, p99 and max of |error|',
      },
      rounds: runs,
      summary,
      targets: SESSIONS.map((n) => {
        const limit = n === 1 ? 3 : summary[n].setTimeout.p99 + OVER_FLOOR[n];
        return {
          what: `replay timing error p99, speed 1, ${n} session${n > 1 ? 's' : ''}`,
          target: n === 1 ? '≤ 3 ms' : `≤ floor + ${OVER_FLOOR[n]} ms`,
          measured: `${fmt(summary[n].replay.p99)} ms (setTimeout floor ${fmt(summary[n].setTimeout.p99)} ms, same run)`,
          met: summary[n].replay.p99 <= limit,
        };
      }),
      notes: [],
    };
  },
  render(res: BenchResult) {
    const s = res.summary as Record<string, Record<TimingMode, { p50: number; p99: number; max: number }>>;
    const markdown = [
      'Error = replayed gap − recorded gap over every consecutive pair of frames, at the client (p50 signed, p99 and max of ' +
        'the absolute error; medians of the rounds). ' +
        Object.entries(res.config.gapsMs as Record<string, number[]>)
          .map(
            ([n, g]) =>
              `${n} session${n === '1' ? '' : 's'}: ${g.length} frames each, the first ${g[0]} ms after the stream opens (not ` +
              `counted), then gaps of ${[...new Set(g.slice(1))].join('/')} ms.`,
          )
          .join(' '),
      '',
      table(
        ['sessions', 'sender', 'p50 ms', 'p99 ms', 'max ms'],
        Object.keys(s).flatMap((n) =>
          TIMING_MODES.map((m) => [
            n,
            m === 'replay' ? 'startReplayer, speed 1' : 'plain setTimeout ws server (floor)',
            fmt(s[n][m].p50),
            fmt(s[n][m].p99),
            fmt(s[n][m].max),
          ]),
        ),
      ),
      '',
      targetsTable(res.targets),
      '',
      '![Replay timing](bench/results/replay-timing.svg)',
    ].join('\n');
    const svg = barChart({
      title: 'Replay timing error at speed 1, |error| p99 (ms)',
      unit: 'ms',
      bars: Object.keys(s).flatMap((n) =>
        TIMING_MODES.map((m) => ({
          label: `${m === 'replay' ? 'replay' : 'setTimeout floor'}, ${n} session${n === '1' ? '' : 's'}`,
          value: s[n][m].p99,
          text: `${fmt(s[n][m].p99)} ms`,
          kind:
            m === 'replay'
              ? s[n][m].p99 <= (n === '1' ? 3 : s[n].setTimeout.p99 + OVER_FLOOR[Number(n)])
                ? ('ok' as const)
                : ('miss' as const)
              : ('ref' as const),
        })),
      ),
      target: { value: 3, label: '3 ms (1 session)' },
    });
    return { markdown, charts: [{ file: 'replay-timing.svg', svg }] };
  },
};
