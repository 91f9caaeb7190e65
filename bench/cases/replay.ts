// 5. Replay: (a) HTTP throughput of startReplayer serving a cassette of 500 distinct recorded requests
// (500 recorded conversations.start, instant speed) next to a plain node:http server answering a
// constant; (b) timing error (replayed gap − recorded gap / speed) of stream frames at speed 1, with 1
// and with 500 concurrent sessions, next to a plain ws server sending the same gaps with setTimeout.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import WebSocket from 'ws';
import { startChild, type Child } from '../lib/child.js';
import { fmt, table, targetsTable, x } from '../lib/md.js';
import { START_BODY, startsCassette, timingCassette } from '../lib/replay-cassettes.js';
import { median, ratio, rotation, round, summarize } from '../lib/stats.js';
import { barChart } from '../lib/svg.js';
import type { BenchCase, BenchResult } from '../lib/types.js';

const RECORDED_REQUESTS = 500;
const CONNECTIONS = 32;
const DURATION_S = 2;
// Recorded gaps (ms) between stream frames. The first frame comes 1.5 s after the stream opens, so that
// all 500 sessions are connected before frames flow (the connection storm is not what is measured); that
// first gap is not counted. One session gets more, shorter gaps (more samples in the same time); 500
// sessions get fewer, longer ones (≈ 6,000 frames/s in all).
const FIRST_GAP = 1200;
const cycle = (pattern: number[], n: number) => Array.from({ length: n }, (_, i) => pattern[i % pattern.length]);
const GAPS_FOR: Record<number, number[]> = {
  1: [300, ...cycle([5, 10, 20, 40, 15, 30, 8, 25], 64)],
  500: [FIRST_GAP, ...cycle([20, 50, 100, 200, 80, 30, 150, 60], 16)],
};
const SESSIONS = [1, 500] as const;
const HTTP_MODES = ['plain', 'replay'] as const;
const TIMING_MODES = ['setTimeout', 'replay'] as const;
type HttpMode = (typeof HTTP_MODES)[number];
type TimingMode = (typeof TIMING_MODES)[number];

interface HttpRun { mode: HttpMode; round: number; reqPerSec: number; p50: number; p99: number; non2xx: number; unmatched?: number }
interface TimingRun { mode: TimingMode; sessions: number; round: number; gaps: number; p50: number; p99: number; max: number; meanAbs: number }

async function hammer(url: string, duration: number): Promise<autocannon.Result> {
  return autocannon({
    url: url + '/v3/directline/conversations',
    connections: CONNECTIONS,
    duration,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer bench-secret' },
    body: JSON.stringify(START_BODY),
  });
}

/** Opens one stream and returns the arrival time of each of `count` frames. */
function receive(url: string, count: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const at: number[] = [];
    const ws = new WebSocket(url);
    const timer = setTimeout(() => { ws.terminate(); reject(new Error(`${at.length} of ${count} frames`)); }, 30_000);
    ws.on('message', () => {
      at.push(performance.now());
      if (at.length === count) {
        clearTimeout(timer);
        ws.close();
        resolve(at);
      }
    });
    ws.once('error', (err) => { clearTimeout(timer); reject(err); });
  });
}

/** Gap errors (ms) of `sessions` concurrent streams: arrival gap − recorded gap, consecutive frames. */
async function timing(mode: TimingMode, sessions: number, target: { wsUrl?: string; domain?: string }): Promise<number[]> {
  const GAPS = GAPS_FOR[sessions];
  const runs = await Promise.all(Array.from({ length: sessions }, async (_, i) => {
    let url: string;
    if (mode === 'replay') {
      const res = await fetch(`${target.domain}/conversations`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer bench-secret' }, body: JSON.stringify(START_BODY) });
      if (res.status !== 201) throw new Error(`conversations.start → ${res.status}`);
      url = ((await res.json()) as { streamUrl: string }).streamUrl;
    } else {
      url = `${target.wsUrl}/v3/directline/conversations/timing-${i}/stream?gaps=${GAPS.join(',')}`;
    }
    return receive(url, GAPS.length);
  }));
  const errors: number[] = [];
  for (const at of runs) for (let k = 1; k < at.length; k++) errors.push(at[k] - at[k - 1] - GAPS[k]);
  return errors;
}

export const replay: BenchCase = {
  name: 'replay',
  title: '5. Replay',
  async run(ctx) {
    const dir = mkdtempSync(join(tmpdir(), 'dlvcr-bench-replay-'));
    const starts = join(dir, 'starts.json');
    writeFileSync(starts, JSON.stringify(startsCassette(RECORDED_REQUESTS)));
    const timed = (n: number) => join(dir, `timing-${n}.json`);
    for (const n of SESSIONS) writeFileSync(timed(n), JSON.stringify(timingCassette(GAPS_FOR[n])));
    const httpRuns: HttpRun[] = [];
    const timingRuns: TimingRun[] = [];
    const children: Child<{ url: string; domain?: string }>[] = [];
    try {
      const plain = await startChild<{ url: string }>('servers/http-upstream.ts');
      const replayer = await startChild<{ url: string; domain: string }>('servers/replayer.ts', { cassette: starts, speed: 0 }, { product: true });
      children.push(plain, replayer);
      const urlOf = async (m: HttpMode) => (m === 'plain' ? plain.info.url : (await replayer.call<{ url: string }>('start')).url);
      for (const m of HTTP_MODES) await hammer(await urlOf(m), 0.5);
      for (let r = 0; r < ctx.rounds; r++) {
        for (const m of rotation(HTTP_MODES, r)) {
          const res = await hammer(await urlOf(m), DURATION_S);
          const run: HttpRun = { mode: m, round: r, reqPerSec: res.requests.total / res.duration, p50: res.latency.p50, p99: res.latency.p99, non2xx: res.non2xx };
          if (m === 'replay') run.unmatched = (await replayer.call<{ unmatched: number }>('summary')).unmatched;
          httpRuns.push(run);
          ctx.log(`  round ${r + 1} http ${m.padEnd(7)} ${fmt(run.reqPerSec, 0).padStart(7)} req/s  p50 ${run.p50} ms  p99 ${run.p99} ms  non-2xx ${run.non2xx}${run.unmatched !== undefined ? `  unmatched ${run.unmatched}` : ''}`);
        }
      }
      const upstream = await startChild<{ url: string }>('servers/ws-upstream.ts');
      const timers = new Map<number, Child<{ url: string; domain: string }>>();
      for (const n of SESSIONS) timers.set(n, await startChild<{ url: string; domain: string }>('servers/replayer.ts', { cassette: timed(n), speed: 1 }, { product: true }));
      children.push(upstream, ...timers.values());
      await timing('replay', 1, { domain: (await timers.get(1)!.call<{ domain: string }>('start')).domain }); // warm-up
      for (let r = 0; r < ctx.rounds; r++) {
        for (const sessions of SESSIONS) {
          for (const m of rotation(TIMING_MODES, r)) {
            const target = m === 'replay' ? { domain: (await timers.get(sessions)!.call<{ domain: string }>('start')).domain } : { wsUrl: upstream.info.url };
            const errors = await timing(m, sessions, target);
            const s = summarize(errors);
            const abs = summarize(errors.map(Math.abs));
            timingRuns.push({ mode: m, sessions, round: r, gaps: s.n, p50: s.p50, p99: abs.p99, max: abs.max, meanAbs: abs.mean });
            ctx.log(`  round ${r + 1} timing ${m.padEnd(10)} ${String(sessions).padStart(3)} session(s): gap error p50 ${fmt(s.p50)} ms, |error| p99 ${fmt(abs.p99)} ms, max ${fmt(abs.max)} ms (${s.n} gaps)`);
          }
        }
      }
    } finally {
      await Promise.all(children.map((c) => c.stop()));
      rmSync(dir, { recursive: true, force: true });
    }
    const rps = (m: HttpMode) => round(median(httpRuns.filter((h) => h.mode === m).map((h) => h.reqPerSec)), 0);
    const httpRatio = median(Array.from({ length: ctx.rounds }, (_, r) => ratio(httpRuns.find((h) => h.round === r && h.mode === 'replay')!.reqPerSec, httpRuns.find((h) => h.round === r && h.mode === 'plain')!.reqPerSec)));
    const t = (m: TimingMode, n: number) => {
      const runs = timingRuns.filter((x) => x.mode === m && x.sessions === n);
      return { p50: round(median(runs.map((x) => x.p50)), 3), p99: round(median(runs.map((x) => x.p99)), 3), max: round(median(runs.map((x) => x.max)), 3) };
    };
    const timingSummary = Object.fromEntries(SESSIONS.map((n) => [n, Object.fromEntries(TIMING_MODES.map((m) => [m, t(m, n)]))]));
    const bad = httpRuns.filter((h) => h.mode === 'replay' && (h.non2xx > 0 || (h.unmatched ?? 0) > 0)).length;
    return {
      config: { recordedRequests: RECORDED_REQUESTS, connections: CONNECTIONS, durationSeconds: DURATION_S, httpSpeed: 'instant (0)', timingSpeed: 1, gapsMs: GAPS_FOR, sessions: SESSIONS, replayer: 'startReplayer in a child process, fresh for every run', plain: 'node:http server answering a constant JSON body (bench/servers/http-upstream.ts)', timingBaseline: 'ws server sending the same gaps with one setTimeout per frame (bench/servers/ws-upstream.ts ?gaps=)', errors: 'per consecutive frame pair: arrival gap at the client − recorded gap; p99 and max of |error|' },
      rounds: [...httpRuns.map((h) => ({ part: 'http', ...h })), ...timingRuns.map((x) => ({ part: 'timing', ...x }))],
      summary: { http: { plain: { reqPerSec: rps('plain') }, replay: { reqPerSec: rps('replay') }, ratio: round(httpRatio, 3) }, timing: timingSummary },
      targets: [
        { what: 'replay req/s vs plain node:http constant server', target: '≥ 0.6×', measured: x(httpRatio), met: httpRatio >= 0.6 },
        { what: 'every replayed request matched (2xx, no mismatch)', target: 'all', measured: bad ? `${bad} run(s) with mismatches` : 'all', met: bad === 0 },
        ...SESSIONS.map((n) => ({ what: `replay timing error p99, speed 1, ${n} session${n > 1 ? 's' : ''}`, target: '≤ 3 ms', measured: `${fmt(timingSummary[n].replay.p99)} ms (setTimeout floor ${fmt(timingSummary[n].setTimeout.p99)} ms)`, met: timingSummary[n].replay.p99 <= 3 })),
      ],
      notes: [],
    };
  },
  render(res: BenchResult) {
    const s = res.summary as { http: { plain: { reqPerSec: number }; replay: { reqPerSec: number }; ratio: number }; timing: Record<string, Record<TimingMode, { p50: number; p99: number; max: number }>> };
    const markdown = [
      `HTTP: POST /conversations over ${res.config.connections as number} connections against a cassette of ${res.config.recordedRequests as number} recorded conversations.start (each its own ids and tokens), speed instant.`,
      '',
      table(['server', 'req/s (median)', 'vs plain'], [
        ['plain node:http constant (limit)', fmt(s.http.plain.reqPerSec, 0), '1×'],
        ['startReplayer', fmt(s.http.replay.reqPerSec, 0), x(s.http.ratio)],
      ]),
      '',
      `Timing at speed 1 (error = replayed gap − recorded gap over every consecutive pair of frames, at the client; p50 signed, p99 and max of the absolute error; medians of the rounds). ` +
        Object.entries(res.config.gapsMs as Record<string, number[]>).map(([n, g]) => `${n} session${n === '1' ? '' : 's'}: ${g.length} frames each, the first ${g[0]} ms after the stream opens (not counted), then gaps of ${[...new Set(g.slice(1))].join('/')} ms.`).join(' '),
      '',
      table(['sessions', 'sender', 'p50 ms', 'p99 ms', 'max ms'], Object.keys(s.timing).flatMap((n) => TIMING_MODES.map((m) => [n, m === 'replay' ? 'startReplayer' : 'plain setTimeout ws server (floor)', fmt(s.timing[n][m].p50), fmt(s.timing[n][m].p99), fmt(s.timing[n][m].max)]))),
      '',
      targetsTable(res.targets),
      '',
      '![Replay timing](bench/results/replay.svg)',
    ].join('\n');
    const svg = barChart({
      title: 'Replay timing error at speed 1, |error| p99 (ms)',
      unit: 'ms',
      bars: Object.keys(s.timing).flatMap((n) => TIMING_MODES.map((m) => ({ label: `${m === 'replay' ? 'replay' : 'setTimeout floor'}, ${n} session${n === '1' ? '' : 's'}`, value: s.timing[n][m].p99, text: `${fmt(s.timing[n][m].p99)} ms`, kind: m === 'replay' ? (s.timing[n][m].p99 <= 3 ? 'ok' as const : 'miss' as const) : 'ref' as const }))),
      target: { value: 3, label: '3 ms target' },
    });
    return { markdown, charts: [{ file: 'replay.svg', svg }] };
  },
};
