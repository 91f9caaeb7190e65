// The fault-rule grammar: every documented form parses to what it says, and each kind of mistake is refused
// with the rule's text and what is allowed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FaultRuleError, parseFaultRule } from '../../src/faults/rule.js';

describe('parseFaultRule', () => {
  it('parses every documented form', () => {
    assert.deepEqual(parseFaultRule('drop-stream@frame=3'), { kind: 'drop-stream', text: 'drop-stream@frame=3', frame: 3, socket: 1 });
    assert.deepEqual(parseFaultRule('drop-stream@frame=1,socket=2'), {
      kind: 'drop-stream',
      text: 'drop-stream@frame=1,socket=2',
      frame: 1,
      socket: 2,
    });
    assert.deepEqual(parseFaultRule('close-stream=1011@after=2000ms'), {
      kind: 'close-stream',
      text: 'close-stream=1011@after=2000ms',
      code: 1011,
      afterMs: 2000,
      socket: 1,
    });
    assert.equal(parseFaultRule('close-stream=1006@after=1.5s').kind, 'close-stream');
    assert.deepEqual(parseFaultRule('refuse-stream@open=1'), { kind: 'refuse-stream', text: 'refuse-stream@open=1', status: 403, open: 1 });
    assert.equal((parseFaultRule('refuse-stream=404@open=2') as { status: number }).status, 404);
    assert.deepEqual(parseFaultRule('status=429@route=activities.post,nth=2'), {
      kind: 'status',
      text: 'status=429@route=activities.post,nth=2',
      status: 429,
      route: 'activities.post',
      nth: 2,
    });
    assert.deepEqual(parseFaultRule('status=502@route=conversations.start'), {
      kind: 'status',
      text: 'status=502@route=conversations.start',
      status: 502,
      route: 'conversations.start',
      nth: null,
    });
    assert.deepEqual(parseFaultRule('expire-token@after=30s'), {
      kind: 'expire-token',
      text: 'expire-token@after=30s',
      afterMs: 30_000,
      request: null,
    });
    assert.deepEqual(parseFaultRule('expire-token@request=5'), {
      kind: 'expire-token',
      text: 'expire-token@request=5',
      afterMs: null,
      request: 5,
    });
    assert.deepEqual(parseFaultRule('latency=800ms±200ms@route=activities.post'), {
      kind: 'latency',
      text: 'latency=800ms±200ms@route=activities.post',
      ms: 800,
      jitterMs: 200,
      route: 'activities.post',
    });
    assert.deepEqual(parseFaultRule('latency=1s+-50ms@frames'), {
      kind: 'latency',
      text: 'latency=1s+-50ms@frames',
      ms: 1000,
      jitterMs: 50,
      route: null,
    });
    assert.deepEqual(parseFaultRule(' conversation-gone@request=4 '), {
      kind: 'conversation-gone',
      text: 'conversation-gone@request=4',
      afterMs: null,
      request: 4,
    });
  });

  const refused: Array<[string, RegExp]> = [
    ['', /empty rule; allowed: drop-stream@frame=N/],
    ['jitter=3', /unknown fault "jitter"; allowed: .*latency=Dms\[±Jms\]@route=ROUTE\|frames/],
    ['status=429@route=activity.post', /unknown route "activity.post"; routes: tokens.generate, .*activities.post/],
    ['status=429', /status needs @route=…; write status=CODE@route=ROUTE\[,nth=N\]/],
    ['status=200@route=activities.post', /status 200 is not an error status \(400-599\)/],
    ['status=abc@route=activities.post', /status "abc" is not a whole number/],
    ['drop-stream', /drop-stream needs @frame=…/],
    ['drop-stream@frame=0', /frame=0 must be a whole number from 1/],
    ['drop-stream@frame=2.5', /frame "2.5" is not a whole number/],
    ['drop-stream=1@frame=2', /drop-stream takes no "=1"/],
    ['drop-stream@after=2s', /"after" does not apply to drop-stream/],
    ['close-stream@after=2s', /close-stream needs a close code/],
    ['close-stream=1005@after=2s', /close code 1005 cannot be used/],
    ['close-stream=1011@after=2000', /after "2000" is not a duration: write it with its unit, e.g. 800ms or 30s/],
    ['expire-token', /needs exactly one of @after=… and @request=…/],
    ['expire-token@after=1s,request=2', /needs exactly one of @after=… and @request=…/],
    ['latency=fast@frames', /latency "fast" is not a duration/],
    ['latency=100ms@route=activities.post,frames', /exactly one of @route=… and @frames=…/],
    ['status=429@route=activities.post,,nth=1', /an empty condition/],
    ['status=429@route=activities.post,nth=1,nth=2', /"nth" is given twice/],
    ['status=429@when=now', /unknown condition "when"/],
  ];
  for (const [rule, problem] of refused) {
    it(`refuses ${JSON.stringify(rule)}`, () => {
      assert.throws(
        () => parseFaultRule(rule),
        (err: unknown) => {
          assert.ok(err instanceof FaultRuleError);
          assert.ok(err.message.startsWith(`fault rule "${rule.trim()}": `), err.message);
          assert.match(err.message, problem);
          return true;
        },
      );
    });
  }
});
