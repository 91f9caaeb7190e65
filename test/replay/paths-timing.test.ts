// Replay timing on every path a client can take, end to end with real parts: botframework-directlinejs talks to
// the test emulator through the recorder (the cassette), then the same script runs against startReplayer of
// that cassette. Each bot reply's gap is measured on the client, from the moment it calls postActivity until
// the reply is emitted on activity$, in the recording run and in the replay run. The client posts as soon as
// the welcome / the previous reply arrived, as a user script does.
//
//   same path, speed 1:  |replayed − recorded| ≤ 20 ms + 10 % of recorded
//   same path, speed 2:  WebSocket: |replayed − recorded/2| ≤ 20 ms + 10 % of recorded/2. Polling: the
//                        client's own poll cadence does not speed up, so what holds is: no later than at
//                        speed 1, and no later than recorded/2 + one polling interval + 20 ms
//   cross path:          recorded − 20 ms ≤ replayed ≤ recorded + one polling interval + 20 ms
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startReplayer } from '../../src/replay/index.js';
import type { Cassette } from '../../src/cassette/schema.js';
import {
  activitiesOf,
  activityTimesOf,
  createDirectLine,
  endDirectLine,
  postAndWait,
  waitForActivities,
} from '../support/directline-client.js';
import { sleep } from '../support/async.js';
import { generateToken, recordCassette } from '../support/recording.js';

/** How the client gets activities: the stream, or polls every `pollingInterval` ms. */
interface Path {
  name: string;
  webSocket: boolean;
  pollingInterval?: number;
}

const WS: Path = { name: 'WebSocket', webSocket: true };
const POLL_200 = { name: 'polling 200 ms', webSocket: false, pollingInterval: 200 } as const;
const POLL_1000 = { name: 'polling 1000 ms', webSocket: false, pollingInterval: 1000 } as const;

const USER = 'dl_timing-user';
const WELCOME = 'Welcome to the emulator bot!';
/** Messages and the bot reply each waits for: 150 ms, 600 ms ('slow') and 150 ms after the POST reached the bot. */
const SCRIPT: ReadonlyArray<readonly [string, string]> = [
  ['hello', 'You said: hello'],
  ['slow', 'You said: slow'],
  ['again', 'You said: again'],
];
/**
 * The measurement allowance on "no earlier than the recorded gap": the same 20 ms the same-path bound allows.
 * A recorded gap is measured at the recording client, so it includes that client's own stalls (its event loop,
 * xhr2 reading a poll's answer), which replay follows the recorder's clock and does not reproduce.
 */
const CLOCK_MS = 20;

const has = (text: string) => (activities: any[]) => activities.some((a) => a.text === text);
const sameTolerance = (expected: number) => 20 + 0.1 * expected;
const f = (n: number) => n.toFixed(1);

/** The script on one client; the gap of each reply (ms from postActivity to its emission on activity$). */
async function runScript(domain: string, token: string, path: Path): Promise<number[]> {
  const dl = createDirectLine({ domain, token, webSocket: path.webSocket, pollingInterval: path.pollingInterval });
  try {
    await waitForActivities(dl, has(WELCOME), 10_000);
    const gaps: number[] = [];
    for (const [text, reply] of SCRIPT) {
      const postedAt = performance.now();
      const posted = postAndWait(dl, {
        type: 'message',
        text,
        from: { id: USER, name: 'Timing User' },
        channelData: { clientActivityID: `cid-${text}` },
      });
      await waitForActivities(dl, has(reply), 10_000);
      assert.match(await posted, /\|\d{7}$/, `postActivity emitted the id of "${text}"`);
      const index = activitiesOf(dl).findIndex((a) => a.text === reply);
      gaps.push(activityTimesOf(dl)[index]! - postedAt);
    }
    return gaps;
  } finally {
    endDirectLine(dl);
    // A polling client stops after at most one more interval: let its last poll finish before anything closes.
    if (path.pollingInterval) await sleep(path.pollingInterval + 100);
  }
}

interface Recorded {
  cassette: Cassette;
  gaps: number[];
}

const recordings = new Map<string, Promise<Recorded>>();

/** The cassette of the script on `path` (recorded once per path), with the recording client's gaps. */
function recorded(path: Path): Promise<Recorded> {
  let r = recordings.get(path.name);
  if (!r) {
    r = recordCassette({}, async ({ domain, emu }) => runScript(domain, await generateToken(domain, emu.secret, USER), path)).then(
      ({ cassette, result }) => ({ cassette, gaps: result }),
    );
    recordings.set(path.name, r);
  }
  return r;
}

async function replay(cassette: Cassette, speed: number, path: Path): Promise<number[]> {
  const r = await startReplayer({ cassette, speed });
  try {
    const gaps = await runScript(r.domain, await generateToken(r.domain, 'replay-secret', USER), path);
    const s = r.summary();
    assert.equal(s.unmatched, 0, `unmatched requests: ${JSON.stringify(s.unmatchedRequests)}`);
    return gaps;
  } finally {
    await r.close();
  }
}

function report(label: string, rec: number[], got: number[], expected: (g: number) => number): void {
  const parts = SCRIPT.map(
    ([text], i) =>
      `${text} recorded ${f(rec[i]!)} expected ${f(expected(rec[i]!))} replayed ${f(got[i]!)} (error ${f(got[i]! - expected(rec[i]!))})`,
  );
  console.log(`# ${label}: ${parts.join('; ')}`);
}

/** Same path: every reply within 20 ms + 10 % of the expected gap (recorded / speed). */
function assertWithin(label: string, rec: number[], got: number[], speed: number): void {
  const expected = (g: number) => g / speed;
  report(label, rec, got, expected);
  SCRIPT.forEach(([text], i) => {
    const want = expected(rec[i]!);
    assert.ok(
      Math.abs(got[i]! - want) <= sameTolerance(want),
      `${label}: reply to "${text}" ${f(got[i]!)} ms after the POST, expected ${f(want)} ± ${f(sameTolerance(want))}`,
    );
  });
}

/** Cross path: no earlier than the recorded gap, no later than it plus one polling interval (+ 20 ms). */
function assertCrossPath(label: string, rec: number[], got: number[], interval: number): void {
  report(label, rec, got, (g) => g);
  SCRIPT.forEach(([text], i) => {
    assert.ok(
      got[i]! >= rec[i]! - CLOCK_MS,
      `${label}: reply to "${text}" ${f(got[i]!)} ms after the POST, before the recorded ${f(rec[i]!)}`,
    );
    assert.ok(
      got[i]! <= rec[i]! + interval + 20,
      `${label}: reply to "${text}" ${f(got[i]!)} ms after the POST, later than ${f(rec[i]!)} + ${interval} + 20`,
    );
  });
}

/** Polling at speed 2: no later than at speed 1, and no later than recorded/2 + one interval + 20 ms. */
function assertPollingSpeed2(label: string, rec: number[], speed1: number[], got: number[], interval: number): void {
  report(label, rec, got, (g) => g / 2);
  SCRIPT.forEach(([text], i) => {
    assert.ok(
      got[i]! <= speed1[i]! + sameTolerance(speed1[i]!),
      `${label}: reply to "${text}" ${f(got[i]!)} ms, later than at speed 1 (${f(speed1[i]!)})`,
    );
    assert.ok(
      got[i]! <= rec[i]! / 2 + interval + 20,
      `${label}: reply to "${text}" ${f(got[i]!)} ms, later than ${f(rec[i]! / 2)} + ${interval} + 20`,
    );
  });
}

describe('replay timing on every path (recorded through the recorder from the emulator)', { timeout: 120_000 }, () => {
  it('WebSocket cassette, WebSocket client: speed 1 keeps each reply gap, speed 2 halves it', async () => {
    const { cassette, gaps } = await recorded(WS);
    assertWithin('WebSocket speed 1', gaps, await replay(cassette, 1, WS), 1);
    assertWithin('WebSocket speed 2', gaps, await replay(cassette, 2, WS), 2);
  });

  for (const path of [POLL_200, POLL_1000] as const) {
    it(`${path.name} cassette, same client: speed 1 keeps each reply on the recorded poll; speed 2 is never later`, async () => {
      const { cassette, gaps } = await recorded(path);
      const speed1 = await replay(cassette, 1, path);
      assertWithin(`${path.name} speed 1`, gaps, speed1, 1);
      assertPollingSpeed2(`${path.name} speed 2`, gaps, speed1, await replay(cassette, 2, path), path.pollingInterval);
    });
  }

  it('WebSocket cassette, polling client (200 ms): each reply on the first poll after its recorded gap', async () => {
    const { cassette, gaps } = await recorded(WS);
    assertCrossPath('WebSocket cassette → polling 200 ms', gaps, await replay(cassette, 1, POLL_200), POLL_200.pollingInterval);
  });

  for (const path of [POLL_200, POLL_1000] as const) {
    it(`${path.name} cassette, WebSocket client: each reply at its recorded gap, never earlier`, async () => {
      const { cassette, gaps } = await recorded(path);
      assertCrossPath(`${path.name} cassette → WebSocket`, gaps, await replay(cassette, 1, WS), path.pollingInterval);
    });
  }
});
