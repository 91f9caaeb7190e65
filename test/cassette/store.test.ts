// The cassette writer's incremental writes (src/cassette/store.ts + append-file.ts): after every flush the
// file is byte-identical to stringifyCassette of what was persisted; each event is serialised once and the
// bytes written grow linearly; an insert before the written part costs one full (atomic) rewrite; holds
// keep in-flight exchanges out of the written part, but never for longer than maxHoldMs; short and failed
// writes are continued or replaced; append mode continues an existing cassette.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { open, readdir, readFile, writeFile } from 'node:fs/promises';
import { Low } from 'lowdb';
import fc from 'fast-check';
import { CassetteWriter } from '../../src/cassette/store.js';
import { AppendFile, type AppendFileMode } from '../../src/cassette/append-file.js';
import { stringifyCassette } from '../../src/cassette/serialize.js';
import { loadCassette, parseCassette } from '../../src/cassette/load.js';
import { Capture } from '../../src/record/capture.js';
import { Redactor } from '../../src/cassette/redact.js';
import type { Cassette, CassetteEvent, HttpEvent } from '../../src/cassette/schema.js';
import { sleep } from '../support/async.js';
import { tempDir } from '../support/fs.js';

const UPSTREAM = { origin: 'http://127.0.0.1:1', basePath: '/v3/directline' };

/** A flush interval long enough that only explicit flush() calls write (the timer never fires in a test). */
const MANUAL = 600_000;

function frame(t: number, text: string, socket = 0): CassetteEvent {
  return {
    type: 'ws.message',
    t,
    conversationId: 'conv-1',
    socket,
    from: 'server',
    data: { json: { activities: [{ type: 'message', text }], watermark: String(t) } },
  };
}

function exchange(t: number, text: string): HttpEvent {
  return {
    type: 'http',
    t,
    conversationId: 'conv-1',
    route: 'activities.post',
    request: {
      method: 'POST',
      path: '/v3/directline/conversations/conv-1/activities',
      query: {},
      headers: { authorization: 'Bearer DLVCR_TOKEN_1' },
      body: { json: { type: 'message', text } },
    },
    response: { status: 200, headers: { 'content-type': 'application/json' }, body: { json: { id: `conv-1|${t}` } } },
    duration: 20,
  };
}

// Texts with multi-byte UTF-8, escapes and a lone surrogate: byte offsets must not be confused with string lengths.
const TEXTS = ['hello', 'héllo wörld', '日本語のテキスト', 'emoji 🎉🚀', 'quote " and \\ backslash', 'line\nbreak\ttab', '\ud800 lone', ''];

async function onDisk(file: string): Promise<string> {
  return readFile(file, 'utf8');
}

/** The file holds exactly the first k events of `data` in stringifyCassette's form; returns k. */
function assertPrefixOnDisk(text: string, data: Cassette, what: string): number {
  const k = (JSON.parse(text) as Cassette).events.length;
  assert.equal(text, stringifyCassette(data, k), `${what}: the file is stringifyCassette of the first ${k} events`);
  return k;
}

test('after every flush the file is byte-identical to stringifyCassette(data); only new lines + the tail are written', async () => {
  const tmp = await tempDir();
  const file = tmp.file('c.json');
  try {
    const w = await CassetteWriter.create(file, { upstream: UPSTREAM, flushIntervalMs: MANUAL });
    assert.equal(await onDisk(file), stringifyCassette(w.snapshot()), 'the fresh cassette');
    assert.match(await onDisk(file), /"events": \[\],\n {2}"redaction": \{\n {4}"placeholders": \{\}\n {2}\}\n\}\n$/);
    assert.deepEqual({ full: w.stats.fullWrites, incremental: w.stats.incrementalWrites }, { full: 1, incremental: 0 });
    let n = 0;
    const sizes = [Buffer.byteLength(await onDisk(file))];
    for (let round = 0; round < 12; round++) {
      for (let i = 0; i < 1 + (round % 4) * 7; i++) w.append(frame(w.now(), `${TEXTS[n++ % TEXTS.length]} #${n}`, round % 3));
      // (A placeholder named __proto__ too: an own key, as JSON.parse makes it.)
      if (round % 3 === 1)
        w.setPlaceholders({ ...w.data.redaction.placeholders, [`DLVCR_TOKEN_${round}`]: 'token', ...JSON.parse('{"__proto__":"custom"}') });
      const before = { ...w.stats };
      await w.flush();
      const text = await onDisk(file);
      assert.equal(text, stringifyCassette(w.snapshot()), `round ${round}: byte-identical`);
      assert.deepEqual(parseCassette(text, file), JSON.parse(JSON.stringify(w.snapshot())), `round ${round}: loads back as the data`);
      assert.equal(w.stats.fullWrites, 1, `round ${round}: no full rewrite`);
      assert.equal(w.stats.incrementalWrites, before.incrementalWrites + 1);
      // Each event is serialised once, and a write costs the new bytes (into the shadow copy, which is one
      // write behind: the bytes of this write and of the previous one), never the whole file.
      assert.equal(w.stats.eventsSerialised, n, 'every event serialised exactly once');
      sizes.push(Buffer.byteLength(text));
      const grew = sizes[round + 1] - sizes[Math.max(0, round - 1)];
      const wrote = w.stats.bytesWritten - before.bytesWritten;
      assert.ok(wrote <= grew + 1024, `round ${round}: wrote ${wrote} bytes for ${grew} new ones`);
    }
    // Nothing new: no write at all.
    const stats = { ...w.stats };
    await w.flush();
    assert.deepEqual(w.stats, stats);
    await w.close();
    assert.equal(await onDisk(file), stringifyCassette(w.snapshot()));
    assert.deepEqual(await readdir(tmp.dir), ['c.json'], 'close() leaves the cassette only (no shadow copy, no temp file)');
  } finally {
    await tmp.cleanup();
  }
});

for (const mode of ['shadow', 'in-place'] as const satisfies readonly AppendFileMode[]) {
  test(`AppendFile (${mode}) as lowdb adapter: Low.write persists changes; a short write is resumed, a failed one rewritten`, async () => {
    const tmp = await tempDir();
    const file = tmp.file('low.json');
    const adapter = new AppendFile(file, { parse: (s) => parseCassette(s, file), mode });
    const db = new Low<Cassette>(adapter, {
      version: 1,
      tool: { name: 't', version: '0' },
      createdAt: 'now',
      upstream: UPSTREAM,
      redaction: { placeholders: {} },
      events: [],
    });
    // FileHandle.prototype.writev, wrapped: the next write can be cut short or fail.
    const probe = await open(file, 'w');
    const proto = Object.getPrototypeOf(probe) as {
      writev: (bufs: Buffer[], pos: number) => Promise<{ bytesWritten: number; buffers: Buffer[] }>;
    };
    await probe.close();
    const original = proto.writev;
    let next: 'short' | 'fail' | null = null;
    let writevCalls = 0;
    proto.writev = async function (this: unknown, bufs: Buffer[], pos: number) {
      writevCalls++;
      const how = next;
      next = null;
      if (how === 'fail') throw Object.assign(new Error('EIO: simulated'), { code: 'EIO' });
      if (how === 'short') return original.call(this, [bufs[0].subarray(0, Math.ceil(bufs[0].length / 2))], pos);
      return original.call(this, bufs, pos);
    };
    try {
      await db.write();
      assert.equal(adapter.mode, mode);
      for (let i = 0; i < 30; i++) db.data.events.push(frame(i, TEXTS[i % TEXTS.length]));
      await db.write();
      assert.equal(await onDisk(file), stringifyCassette(db.data));

      next = 'short';
      const calls = writevCalls;
      for (let i = 30; i < 60; i++) db.data.events.push(frame(i, TEXTS[i % TEXTS.length]));
      await db.write();
      assert.equal(writevCalls, calls + 2, 'the short write was continued with a second write');
      assert.equal(await onDisk(file), stringifyCassette(db.data), 'after a short write');
      assert.equal(adapter.stats.fullWrites, 1);

      next = 'fail';
      for (let i = 60; i < 90; i++) db.data.events.push(frame(i, TEXTS[i % TEXTS.length]));
      await db.write();
      assert.equal(adapter.stats.fullWrites, 2, 'a failed write is replaced by a full rewrite');
      assert.equal(await onDisk(file), stringifyCassette(db.data), 'after a failed write');
      assert.equal(adapter.stats.eventsSerialised, 90 + 30, 'the full rewrite re-serialised only the events whose write failed');

      for (let i = 90; i < 95; i++) db.data.events.push(frame(i, 'after'));
      await db.write();
      assert.equal(await onDisk(file), stringifyCassette(db.data));
      assert.equal(adapter.stats.incrementalWrites, 4);
      await adapter.close();
      assert.deepEqual(await readdir(tmp.dir), ['low.json']);
    } finally {
      proto.writev = original;
      await adapter.close();
      await tmp.cleanup();
    }
  });
}

test('an insert before the written part: the next flush is one full rewrite reusing the written lines; the file stays valid', async () => {
  const tmp = await tempDir();
  const file = tmp.file('c.json');
  try {
    const w = await CassetteWriter.create(file, { upstream: UPSTREAM, flushIntervalMs: MANUAL });
    // Four writes of 50 events: events 0-49, 50-99, 100-149, 150-199.
    for (let i = 0; i < 200; i++) {
      w.append(frame(i * 10, TEXTS[i % TEXTS.length]));
      if (i % 50 === 49) await w.flush();
    }
    assert.equal(w.stats.eventsSerialised, 200);
    // Stamped t=1505: belongs between the events at 1500 and 1510, which are on disk already. No hold was taken.
    w.append(exchange(1505, 'late'));
    for (let i = 200; i < 210; i++) w.append(frame(i * 10, 'more'));
    const before = { ...w.stats };
    await w.flush();
    const text = await onDisk(file);
    assert.equal(text, stringifyCassette(w.snapshot()), 'byte-identical after the full rewrite');
    const loaded = await loadCassette(file);
    assert.deepEqual(loaded.events.map((e) => e.t).slice(149, 153), [1490, 1500, 1505, 1510]);
    assert.equal(w.stats.fullWrites, before.fullWrites + 1, 'one full rewrite');
    // The bytes of the writes before the insert point were read back, not serialised again: events 0-149.
    // From the start of the write that held the insert point on (event 150), the rest was serialised.
    assert.equal(w.stats.eventsSerialised - before.eventsSerialised, 211 - 150);
    assert.ok(w.stats.bytesReused > 0);
    // And the writes after it are incremental again.
    w.append(frame(5000, 'then'));
    await w.flush();
    assert.equal(w.stats.fullWrites, before.fullWrites + 1);
    assert.equal(await onDisk(file), stringifyCassette(w.snapshot()));
    await w.close();
  } finally {
    await tmp.cleanup();
  }
});

test('holds: events from a held time on stay off disk until released; the late exchange lands in order, no full rewrite', async () => {
  const tmp = await tempDir();
  const file = tmp.file('c.json');
  try {
    const w = await CassetteWriter.create(file, { upstream: UPSTREAM, flushIntervalMs: MANUAL });
    const capture = new Capture(w, new Redactor());
    w.append(frame(w.now(), 'before the request'));
    await w.flush();
    await sleep(2);
    // A request arrives: stamped now, held (through Capture.hold, which the HTTP exchange calls).
    const t = capture.now();
    const release = capture.hold(t);
    await sleep(2);
    const t2 = w.now();
    const release2 = w.hold(t2); // a second, later request
    for (let i = 0; i < 5; i++) w.append(frame(w.now(), `during ${i}`));
    w.setPlaceholders({ DLVCR_TOKEN_1: 'token' });
    await w.flush();
    let text = await onDisk(file);
    assert.equal(assertPrefixOnDisk(text, w.snapshot(), 'while held'), 1, 'only the event before the hold is on disk');
    assert.match(text, /DLVCR_TOKEN_1/, 'the tail (placeholders) is current even while events are held');
    // The exchange completes: captured (inserted before the 5 frames), then released.
    capture.http({
      t,
      conversationId: 'conv-1',
      route: 'activities.post',
      method: 'POST',
      path: '/v3/directline/conversations/conv-1/activities',
      query: {},
      requestHeaders: {},
      requestBody: null,
      response: { status: 200, headers: {}, body: null },
      duration: 3,
    });
    release();
    release(); // harmless
    await w.flush();
    text = await onDisk(file);
    // The second hold (t2 > t) still holds the frames stamped after t2, but the exchange (t) is written.
    const k = assertPrefixOnDisk(text, w.snapshot(), 'after the first release');
    assert.equal(k, 2);
    assert.deepEqual(
      (JSON.parse(text) as Cassette).events.map((e) => e.type),
      ['ws.message', 'http'],
    );
    release2();
    await w.flush();
    text = await onDisk(file);
    assert.equal(text, stringifyCassette(w.snapshot()));
    assert.deepEqual(
      w.snapshot().events.map((e) => e.type),
      ['ws.message', 'http', 'ws.message', 'ws.message', 'ws.message', 'ws.message', 'ws.message'],
    );
    assert.equal(w.stats.fullWrites, 1, 'no full rewrite: the exchange was inserted after the written part');
    await w.close();
  } finally {
    await tmp.cleanup();
  }
});

test('a hold older than maxHoldMs (1 s) stops holding: events behind it reach disk; the late insert costs one full rewrite', async () => {
  const tmp = await tempDir();
  const file = tmp.file('c.json');
  try {
    const FLUSH = 50;
    const w = await CassetteWriter.create(file, { upstream: UPSTREAM, flushIntervalMs: FLUSH });
    const t = w.now();
    const release = w.hold(t);
    const heldAt = performance.now();
    const frames = setInterval(() => w.append(frame(w.now(), 'slow bot, busy stream')), 10);
    try {
      // Within the hold: nothing after t is written, however many flushes pass.
      await sleep(600);
      assert.equal((await loadCassette(file)).events.length, 0, 'held for 0.6 s');
      // After ~1 s (+ a flush interval), they are written anyway (by the writer's own timer).
      let onDiskAt = 0;
      while (performance.now() - heldAt < 3000) {
        const n = (await loadCassette(file)).events.length;
        if (n > 0) {
          onDiskAt = performance.now() - heldAt;
          break;
        }
        await sleep(10);
      }
      assert.ok(
        onDiskAt >= 1000 && onDiskAt < 1000 + FLUSH + 400,
        `the held events reached the disk ${Math.round(onDiskAt)} ms after the hold (expected ≈ 1000 ms)`,
      );
      const fullBefore = w.stats.fullWrites;
      // Later frames keep flowing to the disk at the flush interval while the hold is still open.
      const n1 = (await loadCassette(file)).events.length;
      await sleep(4 * FLUSH);
      assert.ok((await loadCassette(file)).events.length > n1, 'frames keep being written while the old hold is open');
      // The slow exchange completes: it belongs before everything written since.
      w.append(exchange(t, 'slow'));
      release();
      await w.flush();
      assert.equal(w.stats.fullWrites, fullBefore + 1, 'one full rewrite for the late insert');
      const text = await onDisk(file);
      assert.equal(assertPrefixOnDisk(text, w.snapshot(), 'after the late insert') >= 2, true);
      assert.equal((JSON.parse(text) as Cassette).events[0].type, 'http', 'the exchange is first, in time order');
    } finally {
      clearInterval(frames);
    }
    await w.close();
    assert.equal(await onDisk(file), stringifyCassette(w.snapshot()), 'close() writes everything');
  } finally {
    await tmp.cleanup();
  }
});

test('close() writes everything, holds or not', async () => {
  const tmp = await tempDir();
  const file = tmp.file('c.json');
  try {
    const w = await CassetteWriter.create(file, { upstream: UPSTREAM, flushIntervalMs: MANUAL });
    w.hold(w.now()); // never released (a request that never completed)
    for (let i = 0; i < 10; i++) w.append(frame(w.now(), `f${i}`));
    await w.flush();
    assert.equal((await loadCassette(file)).events.length, 0);
    await w.close();
    assert.equal(await onDisk(file), stringifyCassette(w.snapshot()));
    assert.equal((await loadCassette(file)).events.length, 10);
  } finally {
    await tmp.cleanup();
  }
});

test('bytes written and events serialised grow linearly: 40k events cost ≈ 4× 10k events', async (t) => {
  const tmp = await tempDir();
  try {
    const run = async (n: number) => {
      const file = tmp.file(`lin-${n}.json`);
      const wcharBefore = procWchar();
      const w = await CassetteWriter.create(file, { upstream: UPSTREAM, flushIntervalMs: MANUAL });
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        w.append(frame(i, `frame ${i} ${'x'.repeat(200)}`));
        if (i % 500 === 499) await w.flush();
      }
      await w.close();
      const ms = performance.now() - t0;
      const size = (await readFile(file)).length;
      const wchar = procWchar() === null || wcharBefore === null ? null : procWchar()! - wcharBefore;
      return { n, ...w.stats, size, ms, wchar };
    };
    const small = await run(10_000);
    const large = await run(40_000);
    t.diagnostic(JSON.stringify({ small, large }));
    assert.equal(small.eventsSerialised, 10_000);
    assert.equal(large.eventsSerialised, 40_000);
    assert.equal(large.fullWrites, 1, 'only the first write (the fresh file) is a full one');
    const ratio = large.bytesWritten / small.bytesWritten;
    assert.ok(ratio > 3.6 && ratio < 4.4, `bytes written: 40k/10k = ${ratio.toFixed(2)}`);
    // Every byte of the file is written about twice (once into each copy), not once per flush.
    assert.ok(large.bytesWritten < 2.2 * large.size, `${large.bytesWritten} bytes written for a ${large.size}-byte file`);
    if (small.wchar !== null && large.wchar !== null) {
      // What the kernel counted (all writes of this process, /proc/self/io wchar): linear too.
      const k = large.wchar / small.wchar;
      assert.ok(k > 3 && k < 5, `kernel-counted bytes written: 40k/10k = ${k.toFixed(2)}`);
    }
  } finally {
    await tmp.cleanup();
  }
});

function procWchar(): number | null {
  try {
    const m = /^wchar:\s+(\d+)/m.exec(readFileSync('/proc/self/io', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

test('append mode continues a cassette (any layout): the first write rewrites it, later ones append, new events after old', async () => {
  const tmp = await tempDir();
  const file = tmp.file('c.json');
  try {
    // An existing cassette in another layout (redaction before events, as older versions wrote it).
    const old: Cassette = {
      version: 1,
      tool: { name: 'directline-vcr', version: '0.0.1' },
      createdAt: '2026-01-01T00:00:00.000Z',
      upstream: UPSTREAM,
      redaction: { placeholders: { DLVCR_SECRET_1: 'secret' } },
      events: [frame(0, 'old 0'), frame(5000, 'old 1', 1)],
    };
    await writeFile(file, JSON.stringify(old, null, 2));
    const w = await CassetteWriter.create(file, { upstream: UPSTREAM, flushIntervalMs: MANUAL, append: true });
    assert.equal(w.stats.fullWrites, 1);
    assert.equal(await onDisk(file), stringifyCassette(w.snapshot()), "rewritten in this writer's layout");
    assert.equal(w.data.createdAt, old.createdAt);
    assert.ok(w.now() >= 5000, 'new events are stamped after the last old one');
    w.append(frame(w.now(), 'new'));
    await w.flush();
    assert.equal(w.stats.fullWrites, 1);
    assert.equal(w.stats.incrementalWrites, 1);
    await w.close();
    const c = await loadCassette(file);
    assert.deepEqual(
      c.events.map((e) => (e as { data: { json: { activities: Array<{ text: string }> } } }).data.json.activities[0].text),
      ['old 0', 'old 1', 'new'],
    );
    assert.deepEqual(c.redaction.placeholders, { DLVCR_SECRET_1: 'secret' });
    // A cassette that does not exist yet: append mode starts a fresh one.
    const w2 = await CassetteWriter.create(tmp.file('new.json'), { upstream: UPSTREAM, flushIntervalMs: MANUAL, append: true });
    await w2.close();
    assert.equal((await loadCassette(tmp.file('new.json'))).events.length, 0);
  } finally {
    await tmp.cleanup();
  }
});

test('a shadow copy left by a killed recorder is replaced, and the cassette stays the only file after close', async () => {
  const tmp = await tempDir();
  const file = tmp.file('c.json');
  try {
    await writeFile(tmp.file('.c.json.shadow-a'), 'stale');
    await writeFile(tmp.file('.c.json.shadow-b'), 'stale');
    const w = await CassetteWriter.create(file, { upstream: UPSTREAM, flushIntervalMs: MANUAL });
    for (let round = 0; round < 4; round++) {
      w.append(frame(w.now(), `r${round}`));
      await w.flush();
      assert.equal(await onDisk(file), stringifyCassette(w.snapshot()));
    }
    assert.equal(w.stats.fullWrites, 1);
    await w.close();
    assert.deepEqual(await readdir(tmp.dir), ['c.json']);
    assert.ok(!existsSync(tmp.file('.c.json.tmp')));
  } finally {
    await tmp.cleanup();
  }
});

test('random appends/inserts/holds/releases/placeholder changes: a flush writes stringifyCassette of a prefix within holds', async () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('frames' as const), n: fc.integer({ min: 1, max: 6 }) }),
    fc.record({ kind: fc.constant('insert' as const), back: fc.integer({ min: 0, max: 40 }) }),
    fc.record({ kind: fc.constant('hold' as const) }),
    fc.record({ kind: fc.constant('release' as const), which: fc.nat() }),
    fc.record({ kind: fc.constant('placeholder' as const) }),
    fc.record({ kind: fc.constant('flush' as const) }),
  );
  const tmp = await tempDir();
  let run = 0;
  try {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), async (ops) => {
        const file = tmp.file(`p-${run++}.json`);
        const w = await CassetteWriter.create(file, { upstream: UPSTREAM, flushIntervalMs: MANUAL });
        let clock = 0;
        const holds: Array<{ t: number; release: () => void }> = [];
        let placeholders = 0;
        try {
          for (const o of [...ops, { kind: 'flush' as const }]) {
            if (o.kind === 'frames')
              for (let i = 0; i < o.n; i++) w.append(frame((clock += 1), `f${clock} ${TEXTS[clock % TEXTS.length]}`));
            else if (o.kind === 'insert') w.append(exchange(Math.max(0, clock - o.back) + 0.5, 'inserted'));
            else if (o.kind === 'hold') holds.push({ t: (clock += 1), release: w.hold(clock) });
            else if (o.kind === 'release' && holds.length) holds.splice(o.which % holds.length, 1)[0].release();
            else if (o.kind === 'placeholder')
              w.setPlaceholders({ ...w.data.redaction.placeholders, [`DLVCR_TOKEN_${++placeholders}`]: 'token' });
            else if (o.kind === 'flush') {
              await w.flush();
              const text = await onDisk(file);
              const k = assertPrefixOnDisk(text, w.snapshot(), 'after a flush');
              // Everything before the oldest open hold is on disk (holds are younger than maxHoldMs here).
              const oldest = Math.min(Infinity, ...holds.map((h) => h.t));
              const stable = w.snapshot().events.filter((e) => e.t < oldest).length;
              assert.ok(k >= stable, `${k} events on disk, ${stable} before the oldest hold`);
              assert.deepEqual((JSON.parse(text) as Cassette).redaction, w.data.redaction, 'the tail is current');
            }
          }
          await w.close();
          assert.equal(await onDisk(file), stringifyCassette(w.snapshot()));
          parseCassette(await onDisk(file), file);
        } catch (err) {
          await w.close().catch(() => undefined);
          throw err;
        }
      }),
      { numRuns: 60, seed: 20261125 },
    );
  } finally {
    await tmp.cleanup();
  }
});

test('written events no hold needs are dropped from memory; the file, eventCount and snapshot() still have them all', async () => {
  const tmp = await tempDir();
  const file = tmp.file('c.json');
  try {
    const w = await CassetteWriter.create(file, { upstream: UPSTREAM, flushIntervalMs: MANUAL });
    for (let i = 0; i < 1000; i++) {
      w.append(frame(i, TEXTS[i % TEXTS.length]));
      if (i % 100 === 99) await w.flush();
    }
    assert.equal(w.data.events.length, 0, 'nothing on disk stays in memory');
    assert.equal(w.eventCount, 1000);
    assert.equal((await loadCassette(file)).events.length, 1000);
    // An open hold keeps what an insert at its time would move: the events after it.
    const release = w.hold(1000.5);
    for (let i = 1001; i < 1101; i++) w.append(frame(i, 'after the hold'));
    w.append(frame(1000, 'before the hold'));
    await w.flush();
    assert.deepEqual(
      w.data.events.map((e) => e.t),
      Array.from({ length: 100 }, (_, k) => 1001 + k),
      'kept: the events after the hold',
    );
    w.append(exchange(1000.5, 'the held exchange'));
    release();
    await w.flush();
    assert.equal(w.data.events.length, 0);
    // An insert older than anything in memory (no hold covered it) reads the written events back, lands in order.
    w.append(exchange(500.5, 'very late'));
    await w.flush();
    const c = await loadCassette(file);
    assert.equal(c.events.length, 1103);
    assert.deepEqual(
      c.events.slice(500, 503).map((e) => e.t),
      [500, 500.5, 501],
    );
    assert.equal(await onDisk(file), stringifyCassette(w.snapshot()));
    await w.close();
    assert.equal(await onDisk(file), stringifyCassette(w.snapshot()));
  } finally {
    await tmp.cleanup();
  }
});
