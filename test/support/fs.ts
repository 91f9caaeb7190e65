// Temp folders for tests: each test gets its own, removed by the cleanup it is handed.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TempDir {
  dir: string;
  /** A path inside the folder. */
  file: (name: string) => string;
  cleanup: () => Promise<void>;
}

export async function tempDir(prefix = 'dlvcr-test-'): Promise<TempDir> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, file: (name) => join(dir, name), cleanup: () => rm(dir, { recursive: true, force: true }) };
}
