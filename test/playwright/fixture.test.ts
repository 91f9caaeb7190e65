// Runs the Playwright example for real (`npx playwright test`, Debian's Chromium, Web Chat from the local
// install with no domain set, the token from the app's backend): record through the test emulator, replay
// with the emulator gone, then a spec that sends an unrecorded message and must fail with the mismatch text.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator, DEFAULT_SECRET, type Emulator } from '../emulator/index.ts';
import { CHROMIUM } from '../browser/support.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const EXAMPLE_CONFIG = join(ROOT, 'examples', 'playwright', 'playwright.config.ts');
const MISMATCH_CONFIG = join(ROOT, 'test', 'playwright', 'playwright.config.ts');

interface JsonResult {
  status: string;
  errors: Array<{ message?: string }>;
}
interface JsonSpec {
  title: string;
  ok: boolean;
  tests: Array<{ results: JsonResult[] }>;
}
interface JsonSuite {
  specs?: JsonSpec[];
  suites?: JsonSuite[];
}
interface JsonReport {
  suites: JsonSuite[];
  stats: { expected: number; unexpected: number; skipped: number; flaky: number };
}

function specsOf(report: JsonReport): JsonSpec[] {
  const out: JsonSpec[] = [];
  const walk = (s: JsonSuite) => {
    out.push(...(s.specs ?? []));
    (s.suites ?? []).forEach(walk);
  };
  report.suites.forEach(walk);
  return out;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

let dir: string;
let cassettes: string;
let runs = 0;

async function playwright(
  config: string,
  env: Record<string, string>,
): Promise<{ code: number | null; report: JsonReport; output: string }> {
  const reportFile = join(dir, `report-${++runs}.json`);
  const child = spawn('npx', ['playwright', 'test', '--config', config, '--reporter=json', '--output', join(dir, `output-${runs}`)], {
    cwd: ROOT,
    env: {
      ...process.env,
      // The specs import directline-vcr/playwright: its TypeScript source, as the rest of the suite does.
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --conditions=dlvcr-source`.trim(),
      PLAYWRIGHT_JSON_OUTPUT_NAME: reportFile,
      DLVCR_CHROMIUM: CHROMIUM,
      DLVCR_CASSETTE_DIR: cassettes,
      APP_PORT: String(await freePort()),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c) => {
    output += c;
  });
  child.stderr.on('data', (c) => {
    output += c;
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.ok(existsSync(reportFile), `playwright wrote no JSON report (exit ${code}):\n${output}`);
  return { code, report: JSON.parse(await readFile(reportFile, 'utf8')) as JsonReport, output };
}

function failures(report: JsonReport): string {
  return specsOf(report)
    .filter((s) => !s.ok)
    .map((s) => `${s.title}: ${s.tests.flatMap((t) => t.results.flatMap((r) => r.errors.map((e) => e.message))).join('\n')}`)
    .join('\n');
}

let emulator: Emulator | null = null;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dlvcr-playwright-'));
  cassettes = join(dir, 'recordings');
  emulator = await startEmulator();
});

after(async () => {
  await emulator?.close();
  await rm(dir, { recursive: true, force: true });
});

test('record: the page talks to the hosted host; the fixture records it through the test upstream', async () => {
  const emu = emulator!;
  const { code, report } = await playwright(EXAMPLE_CONFIG, {
    DLVCR_MODE: 'record',
    DLVCR_UPSTREAM: emu.domain,
    // The app's backend gets its tokens from the emulator, as a real one gets them from the service.
    DIRECT_LINE_SECRET: DEFAULT_SECRET,
    DIRECT_LINE_TOKEN_URL: `${emu.domain}/tokens/generate`,
  });
  assert.equal(code, 0, failures(report));
  assert.deepEqual(
    specsOf(report).map((s) => [s.title, s.ok]),
    [
      ['answers over the WebSocket', true],
      ['answers when polling', true],
    ],
  );

  const ws = JSON.parse(await readFile(join(cassettes, 'chat.spec.ts', 'answers over the WebSocket.json'), 'utf8'));
  const polling = JSON.parse(await readFile(join(cassettes, 'chat.spec.ts', 'answers when polling.json'), 'utf8'));
  assert.equal(ws.upstream.origin, new URL(emu.domain).origin);
  assert.ok(
    ws.events.some((e: any) => e.type === 'ws.open'),
    'the WebSocket test recorded a stream',
  );
  assert.ok(
    ws.events.some((e: any) => e.type === 'ws.message' && JSON.stringify(e.data).includes('You said: hello')),
    'the reply came over the stream',
  );
  assert.ok(!polling.events.some((e: any) => e.type === 'ws.open'), 'the polling test opened no stream');
  assert.ok(
    polling.events.some((e: any) => e.route === 'activities.get'),
    'the polling test polled',
  );
  for (const c of [ws, polling]) {
    const text = JSON.stringify(c);
    assert.ok(!text.includes(DEFAULT_SECRET));
    const start = c.events.find((e: any) => e.route === 'conversations.start');
    assert.match(
      JSON.stringify(start.request.headers),
      /Bearer DLVCR_TOKEN_\d+/,
      'the token from the backend is a placeholder in the cassette',
    );
  }
});

test('replay: the same specs pass offline (the emulator is gone)', async () => {
  await emulator!.close();
  emulator = null;
  const { code, report } = await playwright(EXAMPLE_CONFIG, { DLVCR_MODE: 'replay' });
  assert.equal(code, 0, failures(report));
  assert.deepEqual(
    specsOf(report).map((s) => [s.title, s.ok]),
    [
      ['answers over the WebSocket', true],
      ['answers when polling', true],
    ],
  );
});

test('replay: a test that sends an unrecorded message fails with the mismatch text', async () => {
  const { code, report } = await playwright(MISMATCH_CONFIG, {});
  assert.equal(code, 1);
  const [spec] = specsOf(report);
  assert.equal(spec.title, 'sends a message the cassette never recorded');
  assert.equal(spec.ok, false);
  assert.equal(report.stats.unexpected, 1);
  const messages = spec.tests[0].results[0].errors.map((e) => e.message ?? '').join('\n');
  assert.match(messages, /could not answer 1 request \(ReplayMismatch\)/);
  assert.match(
    messages,
    new RegExp(
      /No recorded request matches POST \/v3\/directline\/conversations\/[^ ]+\/activities \(activities\.post\): /.source +
        /activity text "a message nobody recorded" differs from the recorded "hello"/.source,
    ),
  );
});
