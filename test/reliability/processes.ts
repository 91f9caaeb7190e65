// The recorder CLI and the emulator as child processes (honest RSS, CPU time and file descriptors from
// /proc), and this process's own live handles.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readlink, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface RecorderProcess {
  child: ChildProcess;
  pid: number;
  domain: string;
  port: number;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Stops sampling and returns the peak RSS (bytes) seen, with the number of samples. */
  rss: { peak: number; samples: number; last: number };
  stopSampling: () => void;
  /** SIGKILLs it if it still runs. */
  kill: () => Promise<void>;
}

/** Resident set size of a process from /proc (bytes), or 0 when it is gone. */
export async function rssOf(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat; 0 when it is gone. */
export async function cpuSecondsOf(pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return 0;
  }
}

/** Open file descriptors of a process by kind (what lsof would show), from /proc/<pid>/fd. */
export async function fdsOf(pid: number): Promise<{ total: number; sockets: number }> {
  const dir = `/proc/${pid}/fd`;
  const names = await readdir(dir);
  let sockets = 0;
  await Promise.all(
    names.map(async (n) => {
      try {
        if ((await readlink(`${dir}/${n}`)).startsWith('socket:')) sockets++;
      } catch {
        /* closed meanwhile */
      }
    }),
  );
  return { total: names.length, sockets };
}

/** Spawns `src/cli/main.ts record …` and resolves once it printed its `domain = …` line. */
export async function spawnRecorder(args: string[], opts: { sampleEveryMs?: number } = {}): Promise<RecorderProcess> {
  // DLVCR_RECORDER_NODE_ARGS: extra node flags for the recorder child (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof).
  const nodeArgs = (process.env.DLVCR_RECORDER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  // DLVCR_RECORDER_BUILT=1: the built CLI (bin/ → dist/, as installed), whose memory is the product's alone (no tsx).
  const entry = process.env.DLVCR_RECORDER_BUILT === '1' ? ['bin/directline-vcr.js'] : ['--import', 'tsx', 'src/cli/main.ts'];
  const child = spawn(process.execPath, [...nodeArgs, ...entry, 'record', '--port', '0', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    if (err.length < 200_000) err += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const domain = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no domain line within 20 s; stdout ${JSON.stringify(out)}, stderr ${JSON.stringify(err)}`)),
      20_000,
    );
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /domain = (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the recorder exited (${code ?? signal}) before printing its domain; stderr ${err}`));
    });
  });
  const pid = child.pid!;
  const rss = { peak: 0, samples: 0, last: 0 };
  let sampling = true;
  const sample = async () => {
    const v = await rssOf(pid);
    if (!sampling || v === 0) return;
    rss.last = v;
    rss.samples++;
    if (v > rss.peak) rss.peak = v;
  };
  await sample();
  const timer = setInterval(() => void sample(), opts.sampleEveryMs ?? 200);
  timer.unref();
  void exited.then(() => {
    sampling = false;
    clearInterval(timer);
  });
  return {
    child,
    pid,
    domain,
    port: Number(new URL(domain).port),
    stderr: () => err,
    exited,
    rss,
    stopSampling: () => {
      sampling = false;
      clearInterval(timer);
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

export interface EmulatorProcess {
  pid: number;
  domain: string;
  secret: string;
  close(): Promise<void>;
}

export async function spawnEmulator(options: Record<string, unknown> = {}): Promise<EmulatorProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/reliability/emulator-process.ts', JSON.stringify(options)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    if (err.length < 100_000) err += d;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const [domain, secret] = await new Promise<[string, string]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the emulator printed nothing within 20 s; stderr ${err}`)), 20_000);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /emulator (\S+) secret (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve([m[1]!, m[2]!]);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`the emulator exited early; stderr ${err}`));
    });
  });
  return {
    pid: child.pid!,
    domain,
    secret,
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Active libuv handles of this process (sockets, servers, timers, child pipes). */
export function activeHandles(): number {
  return (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;
}
