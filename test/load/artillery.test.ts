// The Artillery recipe (examples/load/directline.yml + directline-processor.cjs) run by the real Artillery
// (pinned in examples/load/artillery/, installed by `npm test`'s pretest) against replay on 127.0.0.1, at the
// scenario's own small size: every virtual user's conversation whole, every request answered 2xx; and a replay
// that serves other bot texts than the cassette the processor checks against makes the conversations fail.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { loadCassette } from '../../src/cassette/load.js';
import { conversationScripts } from '../../src/load/script.js';
import { startReplayer, type Replayer } from '../../src/replay/index.js';
import { withAlteredReply } from './fixtures.js';
import { tempDir } from '../support/fs.js';

const DEMO = 'recordings/demo.json';
const ARTILLERY = 'examples/load/artillery/node_modules/.bin/artillery';
const SCENARIO = 'examples/load/directline.yml';
const run = promisify(execFile);
const open: Replayer[] = [];
const tmp = await tempDir('dlvcr-artillery-');
after(async () => {
  await Promise.all(open.map((r) => r.close()));
  await tmp.cleanup();
});

interface Report {
  aggregate: { counters: Record<string, number>; summaries: Record<string, { count: number; p99: number }> };
}

/** Runs the scenario against `domain`; `overrides` is Artillery's --overrides JSON (e.g. shorter phases). */
async function artillery(domain: string, name: string, overrides?: unknown): Promise<Report> {
  assert.ok(existsSync(ARTILLERY), `${ARTILLERY} is missing: run \`node scripts/install-load-tools.mjs\` (npm test does)`);
  const output = tmp.file(`${name}.json`);
  const args = ['run', '--target', domain, '--output', output, ...(overrides ? ['--overrides', JSON.stringify(overrides)] : []), SCENARIO];
  await run(ARTILLERY, args, {
    env: { ...process.env, ARTILLERY_DISABLE_TELEMETRY: 'true', CASSETTE: DEMO },
    timeout: 120_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(await readFile(output, 'utf8')) as Report;
}

describe('Artillery recipe (examples/load/directline.yml)', { timeout: 240_000 }, () => {
  it('plays the scenario at its small size: every virtual user a whole conversation, every request 2xx', async () => {
    const r = await startReplayer({ cassette: DEMO, speed: 0, instance: 'art' });
    open.push(r);
    const { aggregate } = await artillery(r.domain, 'whole');
    const c = aggregate.counters;
    const users = c['vusers.created'];
    // the scenario's small phase: 5 s at 4 new users a second
    assert.ok(users >= 15 && users <= 25, `virtual users created: ${users}`);
    assert.equal(c['directline.whole'], users, JSON.stringify(c));
    assert.equal(c['vusers.failed'], 0);
    assert.equal(c['directline.broken'] ?? 0, 0);
    const posts = conversationScripts(await loadCassette(DEMO))[0].turns.length - 1;
    // tokens/generate + conversations start + one POST per recorded user message, all answered 2xx
    assert.equal(c['http.requests'], users * (2 + posts));
    assert.equal((c['http.codes.200'] ?? 0) + (c['http.codes.201'] ?? 0), c['http.requests']);
    assert.equal(aggregate.summaries['directline.turn_ms'].count, users * posts, 'a turn per user message of each conversation');
    const s = r.summary();
    assert.equal(s.conversations, users);
    assert.equal(s.unmatched, 0);
  });

  it('counts a conversation whose replies are not the recorded ones as broken', async () => {
    const file = tmp.file('served.json');
    await writeFile(file, JSON.stringify(withAlteredReply(await loadCassette(DEMO))));
    const r = await startReplayer({ cassette: file, speed: 0 });
    open.push(r);
    const { aggregate } = await artillery(r.domain, 'broken', { config: { phases: [{ duration: 1, arrivalRate: 3 }] } });
    const c = aggregate.counters;
    assert.equal(c['vusers.created'], 3);
    assert.equal(c['directline.broken'], 3, JSON.stringify(c));
    assert.equal(c['vusers.failed'], 3);
    assert.equal(c['directline.whole'] ?? 0, 0);
  });
});
