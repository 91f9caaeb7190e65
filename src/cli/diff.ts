// `directline-vcr diff`: two cassettes compared as conversations and turns. Exit 0 when they are the
// same, 1 when they differ, 2 on bad input.
import { writeFile } from 'node:fs/promises';
import type { Options, PositionalOptions } from 'yargs';
import type { Logger } from 'pino';
import { CONFIG_FILE_NAME, type VcrConfig } from '../config/config.js';
import { JsonPath } from '../cassette/redact.js';
import { diffCassettes, renderDiffText, renderJUnit, SIMILAR_TEXT_THRESHOLD, type CassetteDiff, type DiffOptions } from '../diff/index.js';
import { cliLogger, configOrExit, failStart, loadCassetteOrExit } from './common.js';
import { defineCommand, negatable, type CommandArgs } from './command.js';

/** The flags `diff` and `verify` share: what is compared and how the result is reported. */
export const reportOptions = {
  ignore: {
    type: 'string',
    array: true,
    default: [] as string[],
    describe:
      'JSON path of a field to leave out (redaction syntax), from the activity or from activities[*]: channelData.requestId, ' +
      "'activities[*].value.traceId', ..correlationId; repeatable; adds to the config file's diff.ignore",
  },
  timing: { type: 'number', describe: 'Also report turns whose first reply came this many ms sooner or later (off by default)' },
  text: {
    type: 'string',
    choices: ['exact', 'ignore', 'similar'] as const,
    default: 'exact' as const,
    describe:
      'How bot texts (text, speak) compare: exact; ignore (structure only: cards, actions, number of messages); similar ' +
      `(normalised texts with a Dice similarity of at least --similarity, default ${SIMILAR_TEXT_THRESHOLD})`,
  },
  similarity: {
    type: 'number',
    default: SIMILAR_TEXT_THRESHOLD,
    describe: 'With --text similar: the least similarity (0..1) of two texts still counted as the same answer',
  },
  json: { type: 'boolean', default: false, describe: 'Print the structured diff as JSON instead of text' },
  junit: { type: 'string', describe: 'Also write JUnit XML to this file (one test case per turn, a failure per changed turn)' },
  color: { type: 'boolean', describe: 'Colour output (default: on when stdout is a terminal and NO_COLOR is unset)' },
  config: {
    type: 'string',
    coerce: negatable,
    describe: `JSON file whose diff.ignore paths apply too. Default: ./${CONFIG_FILE_NAME} when it exists; --no-config ignores it`,
  },
} as const satisfies Record<string, Options>;

/** The parsed report flags, as the command declarations type them. */
type ReportArgs = CommandArgs<Record<never, PositionalOptions>, typeof reportOptions>;

/** The comparison options from the flags and the config file; exits 2 on a bad --ignore path or similarity. */
export function diffOptionsOrExit(logger: Logger, args: ReportArgs, config: VcrConfig | null): DiffOptions {
  const ignore = [...(config?.diff.ignore ?? []), ...args.ignore];
  try {
    for (const p of args.ignore) JsonPath.parse(p);
  } catch (err) {
    failStart(logger, 'bad --ignore', err);
  }
  if (!(args.similarity >= 0 && args.similarity <= 1))
    failStart(logger, 'bad --similarity', new Error(`${args.similarity} is not between 0 and 1`));
  if (args.timing !== undefined && !(args.timing >= 0))
    failStart(logger, 'bad --timing', new Error(`${args.timing} is not a number of milliseconds`));
  return { ignore, text: args.text, similarity: args.similarity, ...(args.timing !== undefined ? { timingMs: args.timing } : {}) };
}

/** Prints the diff (text or JSON), writes --junit, and sets the exit code: 0 same, 1 different. */
export async function report(logger: Logger, diff: CassetteDiff, args: ReportArgs): Promise<void> {
  if (args.junit) {
    try {
      await writeFile(args.junit, renderJUnit(diff));
    } catch (err) {
      failStart(logger, 'cannot write --junit', err);
    }
  }
  if (args.json) process.stdout.write(JSON.stringify(diff, null, 2) + '\n');
  else process.stdout.write(renderDiffText(diff, { color: args.color ?? (Boolean(process.stdout.isTTY) && !process.env.NO_COLOR) }) + '\n');
  process.exitCode = diff.equal ? 0 : 1;
}

export default defineCommand({
  command: 'diff <a> <b>',
  describe:
    'Compare two cassettes as conversations: per turn, what the bot answered (ids, tokens, timestamps and watermarks ignored); ' +
    'exit 1 when they differ',
  positionals: {
    a: { type: 'string', demandOption: true, describe: 'The recorded cassette' },
    b: { type: 'string', demandOption: true, describe: 'The cassette to compare with it' },
  },
  options: reportOptions,
  examples: [
    ['$0 diff recordings/greeting.json new/greeting.json', 'what changed, turn by turn'],
    ['$0 diff a.json b.json --text similar --ignore channelData.traceId', 'tolerate reworded answers and one volatile field'],
    ['$0 diff a.json b.json --json', 'the structured diff'],
    ['$0 diff a.json b.json --junit reports/drift.xml', 'JUnit XML for a CI dashboard'],
  ],
  epilogue: 'Exit status: 0 the same, 1 different, 2 a cassette could not be read.',
  handler: async (args) => {
    const logger = cliLogger('warn');
    const config = await configOrExit(logger, args.config);
    const opts = diffOptionsOrExit(logger, args, config);
    const a = await loadCassetteOrExit(logger, args.a);
    const b = await loadCassetteOrExit(logger, args.b);
    await report(logger, diffCassettes(a, b, { ...opts, sourceA: args.a, sourceB: args.b }), args);
  },
});
