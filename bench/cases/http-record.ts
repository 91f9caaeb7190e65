// 1. HTTP record overhead: POST …/activities with unique ~500 B bodies over 32 connections (autocannon),
// straight to the upstream, through a plain http-proxy forwarder, and through startRecorder writing a
// cassette. Modes are interleaved within each round; every recorder run starts on a fresh cassette.
import autocannon from 'autocannon';
import { startChild } from '../lib/child.js';
import { fmt, table, targetsTable, x } from '../lib/md.js';
import { median, ratio, rotation, round } from '../lib/stats.js';
import { barChart } from '../lib/svg.js';
import type { BenchCase, BenchResult } from '../lib/types.js';

const CONNECTIONS = 32;
const DURATION_S = 2;
const WARMUP_S = 0.5;
export const BASE = '/v3/directline';
const CONVERSATION = 'bench-conversation';
const PATH = `${BASE}/conversations/${CONVERSATION}/activities`;
// A token-shaped bearer, as a Direct Line client sends (the recorder redacts it on every request).
const BEARER =
  'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.' +
  'eyJib3QiOiJiZW5jaC1ib3QiLCJjb252IjoiYmVuY2gtY29udmVyc2F0aW9uIn0.' +
  'c2lnbmF0dXJlLWZvci10aGUtYmVuY2htYXJr';
const MODES = ['direct', 'forwarder', 'record'] as const;
type Mode = (typeof MODES)[number];

let seq = 0;
function activityBody(): string {
  const n = ++seq;
  const head =
    `{"type":"message","from":{"id":"dl_bench-user","name":"Bench User"},"locale":"en-US","timestamp":"2026-01-01T00:00:00.000Z",` +
    `"channelData":{"clientActivityID":"${n.toString(36)}-${process.hrtime.bigint().toString(36)}",` +
    `"clientTimestamp":"2026-01-01T00:00:00.000Z"},"text":"message ${n}: `;
  return head + 'x'.repeat(Math.max(0, 500 - head.length - 2)) + '"}';
}

interface Run {
  mode: Mode;
  round: number;
  reqPerSec: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  requests: number;
  non2xx: number;
  errors: number;
  recordedEvents?: number;
  /** CPU time (user + system) of the process answering (upstream, forwarder or recorder) per request, µs. */
  cpuUs: number;
  /** CPU time of its main thread alone (the event loop that relays; the capture worker is another thread), µs. */
  threadCpuUs?: number;
}

export async function loadOnce(url: string, duration: number): Promise<autocannon.Result> {
  return autocannon({
    url: url + PATH,
    connections: CONNECTIONS,
    duration,
    requests: [
      {
        method: 'POST',
        path: PATH,
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${BEARER}`,
          'x-ms-bot-agent': 'DirectLine/3.0 (directline-vcr bench)',
        },
        setupRequest: (req) => ({ ...req, body: activityBody() }),
      },
    ],
  });
}

export const httpRecord: BenchCase = {
  name: 'http-record',
  title: '1. HTTP record overhead',
  async run(ctx) {
    const upstream = await startChild<{ url: string }>('servers/http-upstream.ts');
    const forwarder = await startChild<{ url: string }>('servers/http-forwarder.ts', { upstream: upstream.info.url });
    const recorder = await startChild<{ url: string }>('servers/recorder.ts', { upstream: upstream.info.url + BASE }, { product: true });
    const runs: Run[] = [];
    try {
      const proc = (mode: Mode) => (mode === 'direct' ? upstream : mode === 'forwarder' ? forwarder : recorder);
      const urlOf = async (mode: Mode) =>
        mode === 'direct'
          ? upstream.info.url
          : mode === 'forwarder'
            ? forwarder.info.url
            : (await recorder.call<{ url: string }>('start')).url;
      for (const mode of MODES) await loadOnce(await urlOf(mode), WARMUP_S); // JIT warm-up, not measured
      for (let r = 0; r < ctx.rounds; r++) {
        for (const mode of rotation(MODES, r)) {
          const url = await urlOf(mode);
          const c0 = await proc(mode).cpu();
          const res = await loadOnce(url, DURATION_S);
          const c1 = await proc(mode).cpu();
          const run: Run = {
            mode,
            round: r,
            cpuUs: (c1.user - c0.user + c1.system - c0.system) / res.requests.total,
            ...(c0.thread !== null && c1.thread !== null ? { threadCpuUs: (c1.thread - c0.thread) / res.requests.total } : {}),
            reqPerSec: res.requests.total / res.duration,
            p50: res.latency.p50,
            p90: res.latency.p90,
            p99: res.latency.p99,
            max: res.latency.max,
            requests: res.requests.total,
            non2xx: res.non2xx,
            errors: res.errors + res.timeouts,
          };
          if (mode === 'record') {
            await new Promise((resolve) => setTimeout(resolve, 100)); // the last answers are captured as they end
            run.recordedEvents = await recorder.call<number>('count');
          }
          runs.push(run);
          ctx.log(
            `  round ${r + 1} ${mode.padEnd(9)} ${fmt(run.reqPerSec, 0).padStart(7)} req/s  p50 ${run.p50} ms  p99 ${run.p99} ms  ` +
              `${fmt(run.cpuUs, 0)} µs CPU/request (${fmt(run.threadCpuUs ?? Number.NaN, 0)} main thread)` +
              `${run.recordedEvents !== undefined ? `  (${run.recordedEvents} events recorded for ${run.requests} answers)` : ''}`,
          );
        }
      }
    } finally {
      await Promise.all([recorder.stop(), forwarder.stop(), upstream.stop()]);
    }
    const med = (mode: Mode, k: 'reqPerSec' | 'p50' | 'p90' | 'p99' | 'max' | 'cpuUs' | 'threadCpuUs') =>
      median(runs.filter((r) => r.mode === mode).map((r) => r[k] ?? Number.NaN));
    const per = Object.fromEntries(
      MODES.map((m) => [
        m,
        {
          reqPerSec: round(med(m, 'reqPerSec'), 0),
          p50: med(m, 'p50'),
          p90: med(m, 'p90'),
          p99: med(m, 'p99'),
          max: med(m, 'max'),
          cpuUs: round(med(m, 'cpuUs'), 1),
          threadCpuUs: round(med(m, 'threadCpuUs'), 1),
        },
      ]),
    );
    // Ratios within each round (the machine is shared: a slow round slows every mode of it), then the median.
    const roundRatios = (k: 'reqPerSec' | 'p99' | 'cpuUs') =>
      Array.from({ length: ctx.rounds }, (_, r) => {
        const get = (m: Mode) => runs.find((x) => x.round === r && x.mode === m)![k];
        return ratio(get('record'), get('forwarder'));
      });
    const rpsRatio = median(roundRatios('reqPerSec'));
    const p99Ratio = median(roundRatios('p99'));
    const cpuRatio = median(roundRatios('cpuUs'));
    const fwdVsDirect = median(
      Array.from({ length: ctx.rounds }, (_, r) =>
        ratio(
          runs.find((x) => x.round === r && x.mode === 'forwarder')!.reqPerSec,
          runs.find((x) => x.round === r && x.mode === 'direct')!.reqPerSec,
        ),
      ),
    );
    const recordRuns = runs.filter((r) => r.mode === 'record');
    const lost = recordRuns.filter((r) => (r.recordedEvents ?? 0) < r.requests);
    return {
      config: {
        connections: CONNECTIONS,
        durationSeconds: DURATION_S,
        warmupSeconds: WARMUP_S,
        bodyBytes: 500,
        path: PATH,
        tool: 'autocannon (in the runner process); upstream, forwarder and recorder each in a child process',
        recorder: 'startRecorder, default flushIntervalMs (200), fresh cassette in a temp dir each run',
      },
      rounds: runs,
      summary: {
        ...per,
        ratios: {
          recordVsForwarderReqPerSec: round(rpsRatio, 3),
          recordVsForwarderP99: round(p99Ratio, 3),
          recordVsForwarderCpuPerRequest: round(cpuRatio, 3),
          forwarderVsDirectReqPerSec: round(fwdVsDirect, 3),
        },
      },
      targets: [
        { what: 'record req/s vs plain forwarder', target: '≥ 0.9×', measured: x(rpsRatio), met: rpsRatio >= 0.9 },
        { what: 'record p99 vs plain forwarder', target: '≤ 1.5×', measured: x(p99Ratio), met: p99Ratio <= 1.5 },
        {
          what: 'every answered request recorded',
          target: 'events ≥ answers, every run',
          measured: lost.length
            ? `${lost.length} run(s) short`
            : `${recordRuns.map((r) => r.recordedEvents).join(', ')} events for ${recordRuns.map((r) => r.requests).join(', ')} answers`,
          met: lost.length === 0,
        },
      ],
      notes: [],
    };
  },
  render(res: BenchResult) {
    type Row = { reqPerSec: number; p50: number; p90: number; p99: number; max: number; cpuUs: number; threadCpuUs?: number | null };
    const s = res.summary as Record<Mode, Row> & { ratios: Record<string, number> };
    const thread = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? fmt(v, 0) : '');
    const rows = MODES.map((m) => [
      m === 'direct' ? 'direct to upstream' : m === 'forwarder' ? 'plain http-proxy forwarder (limit)' : 'startRecorder (record)',
      fmt(s[m].reqPerSec, 0),
      x(s[m].reqPerSec / s.forwarder.reqPerSec),
      fmt(s[m].p50),
      fmt(s[m].p99),
      x(s[m].p99 / s.forwarder.p99),
      fmt(s[m].max),
      m === 'direct' ? `${fmt(s[m].cpuUs, 0)} (upstream)` : fmt(s[m].cpuUs, 0),
      thread(s[m].threadCpuUs),
    ]);
    const perRound = table(
      ['round', 'mode', 'req/s', 'p50 ms', 'p99 ms', 'CPU µs/request', 'main thread', 'answers', 'events recorded'],
      (res.rounds as Run[]).map((r) => [
        r.round + 1,
        r.mode,
        fmt(r.reqPerSec, 0),
        r.p50,
        r.p99,
        fmt(r.cpuUs, 0),
        thread(r.threadCpuUs),
        r.requests,
        r.recordedEvents ?? '',
      ]),
    );
    const markdown = [
      table(
        [
          'path',
          'req/s (median)',
          'vs forwarder',
          'p50 ms',
          'p99 ms',
          'p99 vs forwarder',
          'max ms',
          'proxy CPU µs/request',
          'main thread µs/request',
        ],
        rows,
      ),
      '',
      'Ratio columns in the targets table are medians of the per-round ratios (record ÷ forwarder measured back to back in the ' +
        'same round); the "vs forwarder" column above divides the medians. Forwarder ÷ direct: ' +
        `${x(s.ratios.forwarderVsDirectReqPerSec)}. CPU per request (user + system of the proxy process, from ` +
        'process.cpuUsage()) is far steadier than throughput on a shared machine: the recorder uses ' +
        `${x(s.ratios.recordVsForwarderCpuPerRequest)} the forwarder's CPU per request. "Main thread": the proxy's event loop ` +
        "alone (from /proc, in 10 ms ticks; the recorder's capture worker, zlib and GC threads excluded). autocannon reports " +
        'latency in whole milliseconds.',
      '',
      targetsTable(res.targets),
      '',
      '<details><summary>Every run</summary>',
      '',
      perRound,
      '',
      '</details>',
      '',
      '![HTTP throughput](bench/results/http-record.svg)',
    ].join('\n');
    const svg = barChart({
      title: `HTTP POST /activities, 32 connections (median req/s, ${res.config.durationSeconds as number} s runs)`,
      unit: 'req/s',
      bars: MODES.map((m) => ({
        label: m === 'direct' ? 'direct' : m === 'forwarder' ? 'plain forwarder' : 'record',
        value: s[m].reqPerSec,
        text: `${fmt(s[m].reqPerSec, 0)} req/s`,
        kind: m === 'record' ? (res.targets[0].met ? 'ok' : 'miss') : 'ref',
      })),
      target: { value: 0.9 * s.forwarder.reqPerSec, label: '0.9× forwarder' },
    });
    return { markdown, charts: [{ file: 'http-record.svg', svg }] };
  },
};
