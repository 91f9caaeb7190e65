// `verify` as a library: re-drive a cassette's user side against a live Direct Line through our own
// recorder (so the new recording is captured and redacted exactly as `record` does it), then diff the
// recorded conversations against the new ones.
import { copyFile, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { loadCassette } from '../cassette/load.js';
import type { RedactionRules } from '../cassette/redact.js';
import type { Cassette } from '../cassette/schema.js';
import { diffCassettes } from '../diff/index.js';
import { ActivityNormaliser } from '../diff/normalise.js';
import { cassetteTurns } from '../diff/turns.js';
import type { CassetteDiff, DiffOptions } from '../diff/types.js';
import { silentLogger } from '../log.js';
import { startRecorder, type RecordOptions } from '../record/recorder.js';
import { LiveConversation, VerifyError, type Credentials } from './driver.js';
import { planConversations } from './plan.js';

export { VerifyError } from './driver.js';

/** Quiet period after which the bot is taken to have answered a message (ms). */
export const DEFAULT_SETTLE_MS = 3000;

export interface VerifyOptions extends DiffOptions {
  /** The recorded cassette: a file (needed for `update`) or a loaded cassette. */
  cassette: string | Cassette;
  /** Live Direct Line URL with its path prefix; default: the cassette's own upstream (its header). */
  upstream?: string;
  /** The bot's Direct Line secret; default DIRECTLINE_SECRET. */
  secret?: string;
  /** A Direct Line token instead of a secret (verifies one conversation); default DIRECTLINE_TOKEN. */
  token?: string;
  /** Quiet period (ms) after which the bot counts as having answered; default 3000. */
  settleMs?: number;
  /** Keep the new recording in this file. */
  out?: string;
  /** Replace the recorded cassette file with the new recording when they differ (and only then). */
  update?: boolean;
  /** Redaction rules for the new recording, as `record` takes them (a config file's). */
  redact?: RedactionRules;
  logger?: Logger;
  /** TLS and proxy settings for the upstream leg, as `record` takes them. */
  ca?: RecordOptions['ca'];
  insecure?: boolean;
  proxy?: string | false;
}

export interface VerifyResult {
  /** True when nothing differs. */
  equal: boolean;
  diff: CassetteDiff;
  /** The new recording (redacted). */
  recording: Cassette;
  /** Where the new recording was kept (`out`), else null. */
  out: string | null;
  /** True when `update` replaced the recorded cassette. */
  updated: boolean;
}

/** Re-drives the recorded user side against the live upstream and diffs the result. Throws VerifyError / CassetteError. */
export async function verifyCassette(opts: VerifyOptions): Promise<VerifyResult> {
  const logger = opts.logger ?? silentLogger();
  const file = typeof opts.cassette === 'string' ? resolve(opts.cassette) : null;
  if (opts.update && !file) throw new VerifyError('update needs the cassette as a file name');
  const recorded = typeof opts.cassette === 'string' ? await loadCassette(opts.cassette) : opts.cassette;
  const credentials: Credentials = {};
  const secret = opts.secret ?? nonEmpty(process.env.DIRECTLINE_SECRET);
  const token = opts.token ?? nonEmpty(process.env.DIRECTLINE_TOKEN);
  if (secret) credentials.secret = secret;
  else if (token) credentials.token = token;
  else
    throw new VerifyError(
      "verify needs the bot's Direct Line secret or a token: set DIRECTLINE_SECRET (or DIRECTLINE_TOKEN), or verify.secret in " +
        'directline-vcr.config.json; it is never taken from the command line',
    );
  const upstream = opts.upstream ?? `${recorded.upstream.origin}${recorded.upstream.basePath}`;
  const plans = planConversations(recorded);
  if (plans.length === 0) throw new VerifyError(`${file ?? 'the cassette'} has no conversation to re-drive (no start, no activity sent)`);
  if (credentials.token && plans.length > 1) {
    throw new VerifyError(
      `the cassette has ${plans.length} conversations, but a token (DIRECTLINE_TOKEN) opens only one: give the secret (DIRECTLINE_SECRET)`,
    );
  }
  const expected = new Map(
    cassetteTurns(recorded, new ActivityNormaliser()).conversations.map((c) => {
      const counts: number[] = [];
      for (const t of c.turns) counts[t.index] = t.replies.length;
      return [c.ordinal, counts] as const;
    }),
  );

  const work = await mkdtemp(join(tmpdir(), 'dlvcr-verify-'));
  try {
    const newFile = join(work, file ? basename(file) : 'verify.json');
    const recorder = await startRecorder({
      upstream,
      cassette: newFile,
      port: 0,
      host: '127.0.0.1',
      logger,
      redact: opts.redact,
      ca: opts.ca,
      insecure: opts.insecure,
      proxy: opts.proxy,
    });
    try {
      for (const plan of plans) {
        logger.info(
          { conversation: plan.ordinal + 1, steps: plan.steps.length },
          `verify: re-driving conversation ${plan.ordinal + 1} against ${upstream}`,
        );
        await new LiveConversation(plan, {
          domain: recorder.domain,
          credentials,
          settleMs: opts.settleMs ?? DEFAULT_SETTLE_MS,
          expectedReplies: expected.get(plan.ordinal) ?? [],
          logger,
        }).run();
      }
    } finally {
      await recorder.close();
    }
    const recording = await loadCassette(newFile);
    const diff = diffCassettes(recorded, recording, {
      ...opts,
      sourceA: file ?? undefined,
      sourceB: opts.out ? resolve(opts.out) : 'the live bot',
    });
    let out: string | null = null;
    if (opts.out) {
      out = resolve(opts.out);
      await replaceFile(newFile, out);
    }
    let updated = false;
    if (opts.update && file && !diff.equal) {
      await replaceFile(newFile, file);
      updated = true;
      logger.info({ cassette: file }, `verify: ${file} updated with the new recording`);
    }
    return { equal: diff.equal, diff, recording, out, updated };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Copies next to the target, then renames over it: the target is never half written. */
async function replaceFile(from: string, to: string): Promise<void> {
  const tmp = join(dirname(to), `.${basename(to)}.verify-${process.pid}`);
  await copyFile(from, tmp);
  await rename(tmp, to);
}

function nonEmpty(v: string | undefined): string | undefined {
  return v && v.trim() !== '' ? v.trim() : undefined;
}
