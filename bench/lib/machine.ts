// What the numbers were measured on, and by which command: stored with every result.
import os from 'node:os';
import { execFileSync } from 'node:child_process';

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
  kernel: string;
  loadavg: number[];
  /** The commit measured, and how many files under src/ differed from it (the work tree is shared). */
  revision: string;
  uncommittedSrcFiles: number;
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism?.() ?? cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    kernel: os.release(),
    loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100),
    revision: git(['rev-parse', '--short', 'HEAD']) || 'unknown',
    uncommittedSrcFiles: git(['status', '--porcelain', '--', 'src']).split('\n').filter(Boolean).length,
  };
}

/** The command a reader would type to get these numbers again. */
export function benchCommand(args: string[]): string {
  const viaNpm = process.env.npm_lifecycle_event === 'bench';
  const tail = args.length ? ` ${args.join(' ')}` : '';
  return viaNpm ? `npm run bench${tail ? ' --' + tail : ''}` : `node --import tsx bench/run.ts${tail}`;
}
