// `directline-vcr verify`: re-drive a cassette's user side against the live bot and report what changed.
// Exit 0 when the bot still answers as recorded, 1 when it does not, 2 when verify could not run.
import { verifyCassette, DEFAULT_SETTLE_MS, type VerifyResult } from '../verify/index.js';
import { cliLogger, configOrExit, failStart } from './common.js';
import { defineCommand } from './command.js';
import { diffOptionsOrExit, report, reportOptions } from './diff.js';

export default defineCommand({
  command: 'verify <cassette>',
  describe:
    'Re-drive the user side of a cassette against the live bot (through the recorder, redacted as record does) and diff the ' +
    'answers; exit 1 when the bot changed',
  positionals: {
    cassette: { type: 'string', demandOption: true, describe: 'The recorded cassette' },
  },
  options: {
    upstream: {
      type: 'string',
      describe: "Live Direct Line URL with its path prefix (default: the cassette's own upstream, from its header)",
    },
    settle: {
      type: 'number',
      describe:
        'Quiet period (ms) after which the bot counts as having answered a message when it answers fewer times than recorded ' +
        `(default ${DEFAULT_SETTLE_MS}, or the config file's verify.settle)`,
    },
    out: { type: 'string', describe: 'Keep the new recording in this file' },
    update: {
      type: 'boolean',
      default: false,
      describe: 'Replace the cassette with the new recording when they differ (and only then), like a snapshot update',
    },
    ...reportOptions,
    'log-level': {
      type: 'string',
      default: 'warn',
      choices: ['trace', 'debug', 'info', 'warn', 'error', 'silent'],
      describe: 'Log level of the recorder and the driver (stderr)',
    },
  },
  examples: [
    ['DIRECTLINE_SECRET=… $0 verify recordings/greeting.json', 'does the live bot still answer as recorded?'],
    ['$0 verify recordings/greeting.json --upstream http://127.0.0.1:3978/v3/directline --settle 5000', 'a local bot that answers slowly'],
    ['$0 verify recordings/faq.json --text similar --junit reports/faq.xml', 'an LLM bot: structure must hold, wording may change'],
    ['$0 verify recordings/greeting.json --update', 're-record the cassette when the bot changed'],
  ],
  epilogue:
    'The secret comes from DIRECTLINE_SECRET (or a token from DIRECTLINE_TOKEN), or from verify.secret in the config file; ' +
    'never from the command line.\nExit status: 0 the same, 1 different, 2 verify could not run.',
  handler: async (args) => {
    const logger = cliLogger(args['log-level']);
    const config = await configOrExit(logger, args.config);
    const opts = diffOptionsOrExit(logger, args, config);
    if (args.settle !== undefined && !(args.settle >= 0))
      failStart(logger, 'bad --settle', new Error(`${args.settle} is not a number of milliseconds`));
    let result: VerifyResult;
    try {
      result = await verifyCassette({
        ...opts,
        cassette: args.cassette,
        upstream: args.upstream,
        // The environment wins over the config file; either gives a secret or a token.
        ...(process.env.DIRECTLINE_SECRET?.trim() || process.env.DIRECTLINE_TOKEN?.trim()
          ? {}
          : { secret: config?.verify.secret, token: config?.verify.token }),
        settleMs: args.settle ?? config?.verify.settleMs,
        out: args.out,
        update: args.update,
        redact: config?.record.redact,
        logger,
      });
    } catch (err) {
      failStart(logger, 'cannot verify', err);
    }
    await report(logger, result.diff, args);
    if (result.updated) process.stderr.write(`updated ${args.cassette} with the new recording\n`);
  },
});
