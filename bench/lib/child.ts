// Runs a benchmark participant (upstream, proxy, recorder…) in its own Node process, so that it has an
// event loop (and a heap) of its own, and talks to it over the IPC channel: the child announces itself
// with {ready: info}; the parent then calls named commands and gets their results back.
import { fork, type ChildProcess } from 'node:child_process';
import v8 from 'node:v8';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

type Handler = (args: any) => unknown;

export interface Child<Info = Record<string, unknown>> {
  info: Info;
  pid: number;
  call<T = unknown>(cmd: string, args?: unknown, timeoutMs?: number): Promise<T>;
  /** CPU time (µs, user and system) the child has used so far; `thread`: its main thread's alone (Linux), else null. */
  cpu(): Promise<{ user: number; system: number; thread: number | null }>;
  stop(): Promise<void>;
}

const here = fileURLToPath(new URL('.', import.meta.url));

/** Starts bench/<script> (a .ts file, run through tsx) and waits for its ready message. */
// BENCH_CPU_PROF=<dir> runs the product's processes (opts.product) under --cpu-prof, writing there.
export async function startChild<Info = Record<string, unknown>>(
  script: string,
  args: Record<string, unknown> = {},
  opts: { gc?: boolean; timeoutMs?: number; product?: boolean; env?: Record<string, string> } = {},
): Promise<Child<Info>> {
  const file = fileURLToPath(new URL(`../${script}`, `file://${here}`));
  const prof = opts.product && process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const execArgv = ['--import', 'tsx', ...(opts.gc ? ['--expose-gc'] : []), ...prof];
  const proc: ChildProcess = fork(file, [JSON.stringify(args)], {
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...opts.env },
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  let nextId = 1;
  let exited = false;
  const info = await new Promise<Info>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${script}: not ready after ${opts.timeoutMs ?? 20000} ms`));
    }, opts.timeoutMs ?? 20000);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code} before it was ready`));
    });
    proc.on('message', function onReady(m: any) {
      if (m?.ready) {
        clearTimeout(timer);
        proc.off('message', onReady);
        resolve(m.ready as Info);
      }
    });
  });
  proc.removeAllListeners('exit');
  proc.on('message', (m: any) => {
    const p = m && typeof m.id === 'number' ? pending.get(m.id) : undefined;
    if (!p) return;
    pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.error) p.reject(new Error(`${script}: ${m.error}`));
    else p.resolve(m.result);
  });
  proc.on('exit', (code, signal) => {
    exited = true;
    for (const p of pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error(`${script} exited (${code ?? signal})`));
    }
    pending.clear();
  });
  const call = <T>(cmd: string, a?: unknown, timeoutMs = 60_000): Promise<T> => {
    if (exited) return Promise.reject(new Error(`${script} has exited`));
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`${script}: ${cmd} took over ${timeoutMs} ms`));
      }, timeoutMs);
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      proc.send({ id, cmd, args: a });
    });
  };
  return {
    info,
    pid: proc.pid ?? -1,
    call,
    cpu: () => call<{ user: number; system: number; thread: number | null }>('cpu'),
    async stop() {
      if (exited) return;
      const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.send({ id: 0, cmd: 'exit' });
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    },
  };
}

/** In the child: the arguments the parent passed. */
export function childArgs<T = Record<string, unknown>>(): T {
  return JSON.parse(process.argv[2] ?? '{}') as T;
}

/** In the child: answer the parent's calls with these handlers, then announce readiness with `info`. */
export function serveParent(info: unknown, handlers: Record<string, Handler>): void {
  if (!process.send) throw new Error('not started by startChild (no IPC channel)');
  process.on('message', async (m: any) => {
    if (!m || typeof m.cmd !== 'string') return;
    if (m.cmd === 'exit') {
      try {
        await handlers.exit?.(undefined);
      } finally {
        process.exit(0);
      }
    }
    const h = m.cmd === 'cpu' ? cpuMicros : handlers[m.cmd];
    try {
      if (!h) throw new Error(`unknown command ${m.cmd}`);
      const result = await h(m.args);
      process.send!({ id: m.id, result: result ?? null });
    } catch (err) {
      process.send!({ id: m.id, error: (err as Error).stack ?? String(err) });
    }
  });
  process.on('disconnect', () => process.exit(0)); // the parent went away: never linger
  process.send({ ready: info });
}

/**
 * CPU time (µs) this process has used, user and system: every child answers `cpu`. `thread` is the main thread's
 * share (the relay's event loop; worker threads, zlib and GC threads excluded), from /proc (10 ms ticks), or null.
 */
function cpuMicros(): { user: number; system: number; thread: number | null } {
  return { ...process.cpuUsage(), thread: mainThreadMicros() };
}

function mainThreadMicros(): number | null {
  try {
    // The main thread's task id is the pid; utime and stime are fields 14 and 15 (after the parenthesised name).
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * (1_000_000 / CLOCK_TICKS);
  } catch {
    return null;
  }
}

/** USER_HZ: the unit of /proc's CPU times (100 on Linux everywhere in practice). */
const CLOCK_TICKS = 100;

/** In the child: memory after two full collections (needs --expose-gc), with V8's young generation apart. */
export function measuredMemory(): { rss: number; heapUsed: number; external: number; arrayBuffers: number; newSpace: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
  const m = process.memoryUsage();
  // The young generation's pages stay committed after a full collection and grow with the allocation rate
  // (semi-spaces of 1 to 16 MB each): RSS moves with them, by megabytes, whatever is retained.
  const newSpace = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.physical_space_size ?? 0;
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, newSpace };
}
