// The cassette file: complete JSON at every moment while recording, written in batches, clear errors for
// broken files, and a published JSON Schema that is current and accepts what the recorder writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { watch } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { startRecorder } from '../../src/record/recorder.js';
import { CassetteError, loadCassette, parseCassette } from '../../src/cassette/load.js';
import { cassetteJsonSchema } from '../../src/cassette/json-schema.js';
import { recordedActivities, startMiniUpstream, StreamClient, withRig, wsMessages } from './helpers.js';
import { sleep } from '../support/async.js';
import { tempDir } from '../support/fs.js';
import { call } from '../support/http.js';

const require = createRequire(import.meta.url);

test('the cassette on disk parses at any moment while 2,000 frames are recorded; written far less often than frames arrive', async (t) => {
  const FRAMES = 2000;
  const up = await startMiniUpstream();
  const tmp = await tempDir();
  const file = tmp.file('cassette.json');
  // Instrumentation: the writer's own count of its writes (it runs in the capture worker, so they are asked for),
  // and independently every rename onto the cassette name the kernel reports.
  const writeCalls = async () => {
    const s = await rec.writeStats();
    return (s?.incrementalWrites ?? 0) + (s?.fullWrites ?? 0);
  };
  let renames = 0;
  const watcher = watch(tmp.dir, (_event, name) => {
    if (name === basename(file)) renames++;
  });
  const FLUSH_MS = 50;
  const rec = await startRecorder({ upstream: up.domain, cassette: file, flushIntervalMs: FLUSH_MS });
  try {
    const writesBefore = await writeCalls();
    // The upstream sends 20 frames every 5 ms: ~0.5 s of traffic, long enough for many flushes.
    let firstFrameAt = 0;
    up.onConnection = (s) => {
      firstFrameAt = performance.now();
      let i = 0;
      const tick = () => {
        for (let n = 0; n < 20 && i < FRAMES; n++, i++) {
          s.ws.send(
            JSON.stringify({
              activities: [{ type: 'message', id: `conv-1|${String(i).padStart(7, '0')}`, text: `frame ${i}` }],
              watermark: String(i),
            }),
          );
        }
        if (i < FRAMES) setTimeout(tick, 5);
      };
      tick();
    };
    const client = await StreamClient.open(`ws://127.0.0.1:${rec.port}/v3/directline/conversations/conv-1/stream?t=x`);
    let done = false;
    const received = client
      .waitFor((c) => c.frames.length === FRAMES, `${FRAMES} frames`, 15_000)
      .finally(() => {
        done = true;
      });

    // Read and parse the file as often as we can while the frames flow.
    let reads = 0;
    const failures: string[] = [];
    const seenCounts = new Set<number>();
    while (!done) {
      const text = await readFile(file, 'utf8');
      reads++;
      try {
        // Every read must be complete JSON; every 25th also goes through the full schema validation.
        const parsed = reads % 25 === 0 ? parseCassette(text, file) : JSON.parse(text);
        assert.equal(parsed.version, 1);
        seenCounts.add(parsed.events.length);
      } catch (err) {
        failures.push((err as Error).message.slice(0, 200));
      }
      await sleep(3);
    }
    await received;
    await client.close();
    await rec.flush();
    const elapsed = performance.now() - firstFrameAt;
    const final = await loadCassette(file);
    const writes = (await writeCalls()) - writesBefore;

    assert.deepEqual(failures, [], 'every read parsed as a complete cassette');
    assert.ok(reads >= 20, `read the file ${reads} times`);
    assert.ok(seenCounts.size >= 3, `saw ${seenCounts.size} different versions while recording (reads happened during the burst)`);
    assert.equal(wsMessages(final).length, FRAMES);
    assert.deepEqual(
      recordedActivities(final).map((a) => a.text),
      Array.from({ length: FRAMES }, (_, i) => `frame ${i}`),
    );
    assert.ok(writes >= seenCounts.size - 1, `${writes} writes, ${seenCounts.size} versions seen`);
    // The writer's promise: at most one write per flush interval (plus the explicit flush), however many frames.
    assert.ok(writes <= Math.ceil(elapsed / FLUSH_MS) + 1, `${writes} writes in ${Math.round(elapsed)} ms`);
    assert.ok(writes <= FRAMES / 20, `${writes} full-file writes for ${FRAMES} frames`);
    assert.ok(renames <= writes + 1, `the kernel saw ${renames} renames for ${writes} writes`);
    // Measured numbers, for the record.
    t.diagnostic(
      `cassette writes: ${writes} (renames seen by fs.watch: ${renames}) for ${FRAMES} frames in ${Math.round(elapsed)} ms; ` +
        `${reads} reads, ${seenCounts.size} versions seen, 0 parse failures`,
    );
  } finally {
    watcher.close();
    await rec.close();
    await up.close();
    await tmp.cleanup();
  }
});

test('malformed cassettes: each problem is a CassetteError naming the file and what is wrong where', async () => {
  const tmp = await tempDir();
  try {
    const good = {
      version: 1,
      tool: { name: 'directline-vcr', version: '0.1.0' },
      createdAt: '2026-01-01T00:00:00.000Z',
      upstream: { origin: 'http://127.0.0.1:1', basePath: '/v3/directline' },
      redaction: { placeholders: {} },
      events: [
        { type: 'ws.open', t: 0, conversationId: 'c', socket: 0, path: '/v3/directline/conversations/c/stream', query: {}, status: 101 },
        { type: 'ws.message', t: 1, conversationId: 'c', socket: 0, from: 'server', data: { text: '' } },
        { type: 'ws.message', t: 2, conversationId: 'c', socket: 0, from: 'client', data: { text: '' } },
        { type: 'ws.close', t: 3, conversationId: 'c', socket: 0, by: 'client', code: 1000, reason: '' },
      ],
    };
    const goodText = JSON.stringify(good, null, 2);
    const cases: Array<{ name: string; content: string | null; expect: RegExp[] }> = [
      { name: 'empty.json', content: '', expect: [/empty/] },
      { name: 'blank.json', content: ' \n\t\n', expect: [/empty/] },
      { name: 'truncated.json', content: goodText.slice(0, Math.floor(goodText.length * 0.6)), expect: [/not valid JSON/, /truncated/] },
      { name: 'v2.json', content: JSON.stringify({ ...good, version: 2 }), expect: [/version 2\b/, /version 1\b/] },
      { name: 'noversion.json', content: JSON.stringify({ ...good, version: undefined }), expect: [/version undefined\b/, /version 1\b/] },
      { name: 'array.json', content: '[]', expect: [/JSON object/] },
      {
        name: 'bad-t.json',
        content: JSON.stringify({ ...good, events: good.events.map((e, i) => (i === 2 ? { ...e, t: 'soon' } : e)) }),
        expect: [/events\[2\]\.t/],
      },
      {
        name: 'bad-from.json',
        content: JSON.stringify({ ...good, events: good.events.map((e, i) => (i === 1 ? { ...e, from: 'proxy' } : e)) }),
        expect: [/events\[1\]\.from/],
      },
      {
        name: 'backwards.json',
        content: JSON.stringify({ ...good, events: good.events.map((e, i) => (i === 3 ? { ...e, t: 0.5 } : e)) }),
        expect: [/events\[3\]\.t/, /backwards/],
      },
      { name: 'missing.json', content: null, expect: [/ENOENT/] },
    ];
    assert.equal(
      (
        await (async () => {
          await writeFile(tmp.file('good.json'), goodText);
          return loadCassette(tmp.file('good.json'));
        })()
      ).events.length,
      4,
      'the base case loads',
    );
    for (const c of cases) {
      const path = tmp.file(c.name);
      if (c.content !== null) await writeFile(path, c.content);
      await assert.rejects(
        loadCassette(path),
        (err: unknown) => {
          assert.ok(err instanceof CassetteError, `${c.name}: ${String(err)}`);
          assert.equal(err.file, path);
          assert.ok(err.message.startsWith(`${path}: `), `${c.name}: the message names the file: ${err.message}`);
          for (const re of c.expect) assert.match(err.message, re, c.name);
          return true;
        },
        c.name,
      );
    }
  } finally {
    await tmp.cleanup();
  }
});

test('schema/cassette.schema.json is current, and a recorded cassette validates against it (ajv, draft 2020-12)', async () => {
  const onDisk = await readFile(new URL('../../schema/cassette.schema.json', import.meta.url), 'utf8');
  const generated = cassetteJsonSchema();
  assert.deepEqual(JSON.parse(onDisk), generated, 'regenerate with `npm run schema`');
  assert.equal(onDisk, JSON.stringify(generated, null, 2) + '\n', "the file has the generator's exact form");

  const ajv = new Ajv2020({ allErrors: true, strict: false });
  (require('ajv-formats') as (a: Ajv2020) => Ajv2020)(ajv);
  const validate = ajv.compile(generated);

  // A short but varied recording: tokens, start, stream frames (JSON and keep-alives), a ping, an error, a close.
  await withRig({ emulator: { keepAliveMs: 30 } }, async ({ emu, rec, load }) => {
    const gen = await call(rec.domain, 'POST', '/tokens/generate', { bearer: emu.secret });
    const start = await call(rec.domain, 'POST', '/conversations', { bearer: gen.json.token, body: { user: { id: 'dl_u' } } });
    const s = await StreamClient.open(start.json.streamUrl);
    s.ws.send('');
    await call(rec.domain, 'POST', `/conversations/${start.json.conversationId}/activities`, {
      bearer: start.json.token,
      body: { type: 'message', text: 'hello', from: { id: 'dl_u' } },
    });
    await s.waitForText('You said: hello');
    await s.waitFor((c) => c.frames.includes(''), 'a keep-alive');
    await call(rec.domain, 'POST', '/tokens/refresh', { bearer: 'not-a-token' });
    await s.close(4001, 'bye');
    emu.expireStreamTokens();
    await call(rec.domain, 'GET', `/conversations/${start.json.conversationId}/activities?watermark=`, { bearer: start.json.token });

    const cassette = await load();
    const types = new Set(cassette.events.map((e) => e.type));
    assert.deepEqual([...types].sort(), ['http', 'ws.close', 'ws.message', 'ws.open']);
    const ok = validate(JSON.parse(JSON.stringify(cassette)));
    assert.ok(ok, ajv.errorsText(validate.errors));
    // And the schema is not vacuous: what the loader rejects, it rejects too.
    const broken = structuredClone(cassette) as any;
    broken.events[1].t = -1;
    assert.equal(validate(broken), false);
    const extra = structuredClone(cassette) as any;
    extra.events[0].surprise = true;
    assert.equal(validate(extra), false);
  });
});
