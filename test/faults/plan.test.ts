// The fault plan on its own, with a hand-driven clock: what each rule counts, per conversation, and that the
// same rules and seed give the same faults.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { FaultPlan } from '../../src/faults/plan.js';
import { sleep } from '../support/async.js';

function plan(rules: string[], seed?: number) {
  let now = 0;
  const p = new FaultPlan(rules, { seed, now: () => now });
  return {
    p,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

/** A socket that records what the tap does to it. */
class FakeSocket extends EventEmitter {
  readyState = 1;
  sent: string[] = [];
  ended: string | null = null;
  send(data: string | Buffer, _opts: { binary: boolean }, cb?: (err?: Error) => void): void {
    this.sent.push(String(data));
    setImmediate(() => cb?.());
  }
  close(code?: number): void {
    this.ended = `close ${code}`;
    this.readyState = 3;
    this.emit('close');
  }
  terminate(): void {
    this.ended = 'terminate';
    this.readyState = 3;
    this.emit('close');
  }
}

describe('FaultPlan', () => {
  it('status@nth counts that route per conversation; other routes and conversations are left alone', () => {
    const { p } = plan(['status=429@route=activities.post,nth=2']);
    p.started('A');
    p.started('B');
    assert.equal(p.request('activities.post', 'A'), null);
    assert.equal(p.request('activities.get', 'A'), null);
    const f = p.request('activities.post', 'A');
    assert.equal(f?.kind, 'reply');
    assert.equal(f?.kind === 'reply' && f.reply.status, 429);
    assert.equal(f?.kind === 'reply' && f.reply.headers['retry-after'], '1');
    assert.deepEqual(JSON.parse(f?.kind === 'reply' ? f.reply.body.toString() : '{}').error.code, 'TooManyRequests');
    assert.equal(p.request('activities.post', 'A'), null, 'only the 2nd');
    assert.equal(p.request('activities.post', 'B'), null);
    assert.equal(p.request('activities.post', 'B')?.kind, 'reply', "B's own 2nd post");
    assert.deepEqual(p.summary(), { injected: 2, byRule: { 'status=429@route=activities.post,nth=2': 2 } });
  });

  it('expire-token@after: refused from then on; a refresh before it extends the token; after it the refresh is refused too', () => {
    const { p, advance } = plan(['expire-token@after=30s']);
    p.started('A');
    advance(20_000);
    assert.equal(p.request('tokens.refresh', 'A'), null, 'refresh at 20 s');
    advance(25_000);
    assert.equal(p.request('activities.post', 'A'), null, '45 s after start, 25 s after the refresh');
    advance(6_000);
    const f = p.request('activities.post', 'A');
    assert.equal(f?.kind === 'reply' && f.reply.status, 403);
    assert.equal(JSON.parse(f?.kind === 'reply' ? f.reply.body.toString() : '{}').error.code, 'TokenExpired');
    assert.equal(p.request('tokens.refresh', 'A')?.kind, 'reply', 'an expired token cannot be refreshed');
    assert.equal(p.upgrade('A')?.reply.status, 403, 'stream upgrades are refused as well');
  });

  it('expire-token@request counts requests since the last refresh', () => {
    const { p } = plan(['expire-token@request=3']);
    p.started('A');
    assert.equal(p.request('activities.get', 'A'), null);
    assert.equal(p.request('tokens.refresh', 'A'), null);
    assert.equal(p.request('activities.get', 'A'), null);
    assert.equal(p.request('activities.get', 'A'), null);
    assert.equal(p.request('activities.get', 'A')?.kind, 'reply');
  });

  it('conversation-gone stays until clear(); clear() makes the conversation valid again', () => {
    const { p } = plan(['conversation-gone@request=2']);
    p.started('A');
    assert.equal(p.request('activities.get', 'A'), null);
    assert.equal(p.request('activities.get', 'A')?.kind === 'reply' && 404, 404);
    assert.equal(p.upgrade('A')?.reply.status, 404);
    p.clear();
    assert.equal(p.request('activities.get', 'A'), null);
  });

  it('refuse-stream@open=2 refuses only the 2nd upgrade of each conversation', () => {
    const { p } = plan(['refuse-stream@open=2']);
    assert.equal(p.upgrade('A'), null);
    assert.equal(p.upgrade('A')?.reply.status, 403);
    assert.equal(p.upgrade('A'), null);
    assert.equal(p.upgrade('B'), null);
  });

  it('latency jitter: seeded, within ms ± jitter, the same sequence for the same seed', () => {
    const delays = (seed: number) => {
      const { p } = plan(['latency=800ms±200ms@route=activities.post'], seed);
      p.started('A');
      return Array.from({ length: 20 }, () => p.request('activities.post', 'A')!.delayMs);
    };
    const a = delays(42);
    assert.ok(
      a.every((d) => d >= 600 && d <= 1000),
      JSON.stringify(a),
    );
    assert.ok(new Set(a).size > 10, 'the delays vary');
    assert.deepEqual(delays(42), a);
    assert.notDeepEqual(delays(43), a);
  });

  it('inject() rejects a bad rule and applies a good one from the next request', () => {
    const { p } = plan([]);
    assert.throws(() => p.inject('status=99@route=activities.post'), /status 99 is not an error status/);
    assert.equal(p.request('activities.post', 'A'), null);
    p.inject('status=503@route=activities.post');
    assert.equal(p.request('activities.post', 'A')?.kind === 'reply' && 503, 503);
  });

  it('drop-stream: the socket is terminated right after its N-th frame went out', async () => {
    const { p } = plan(['drop-stream@frame=2']);
    const ws = new FakeSocket();
    const tap = p.stream('A', ws);
    tap.send('one', false);
    tap.send('two', false);
    tap.send('three', false);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(ws.sent, ['one', 'two']);
    assert.equal(ws.ended, 'terminate');
    const second = new FakeSocket();
    const tap2 = p.stream('A', second);
    for (const f of ['a', 'b', 'c']) tap2.send(f, false);
    assert.deepEqual(second.sent, ['a', 'b', 'c'], 'the 2nd socket of the conversation is not dropped (socket=1 by default)');
  });

  it('latency@frames with jitter keeps the frames in order', async () => {
    const p = new FaultPlan(['latency=30ms±25ms@frames'], { seed: 3 });
    const ws = new FakeSocket();
    const tap = p.stream('A', ws);
    for (let i = 0; i < 10; i++) tap.send(String(i), false);
    let done = false;
    tap.after(() => {
      done = true;
    });
    await sleep(120);
    assert.deepEqual(ws.sent, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    assert.ok(done, 'after() ran once the queue drained');
    assert.equal(p.summary().injected, 10);
  });

  it('close-stream: closes with its code that long after the socket opened', async () => {
    const p = new FaultPlan(['close-stream=1011@after=30ms']);
    const ws = new FakeSocket();
    p.stream('A', ws);
    await sleep(10);
    assert.equal(ws.ended, null);
    await sleep(60);
    assert.equal(ws.ended, 'close 1011');
  });
});
