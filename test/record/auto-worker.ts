// A test worker process using startVcr({ mode: 'auto' }) on a shared cassette (driven by lock.test.ts): prints
// one JSON line (what it became, or why it could not start), and closes on SIGTERM.
import { startVcr } from '../../src/vcr.js';

const [cassette, upstream] = process.argv.slice(2);
try {
  const vcr = await startVcr({ mode: 'auto', cassette, upstream, port: 0 });
  process.stdout.write(JSON.stringify({ ok: true, mode: vcr.mode, domain: vcr.domain, pid: process.pid }) + '\n');
  process.once('SIGTERM', () => void vcr.close().then(() => process.exit(0)));
} catch (err) {
  const e = err as NodeJS.ErrnoException & { holder?: { pid: number } };
  process.stdout.write(
    JSON.stringify({ ok: false, code: e.code, message: e.message, holderPid: e.holder?.pid ?? null, pid: process.pid }) + '\n',
  );
  process.exit(3);
}
