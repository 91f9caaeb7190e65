// `directline-vcr import`: a conversation written without a bot (.transcript, .chat, script) as a cassette.
import { DEFAULT_MAX_GAP_MS, IMPORT_FORMATS, ImportError, importFile, writeCassetteFile } from '../import/index.js';
import { cliLogger } from './common.js';
import { defineCommand } from './command.js';

function maxGap(value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new Error(`--max-gap must be a number of milliseconds ≥ 0, got ${String(value)}`);
  return value;
}

export default defineCommand({
  command: 'import <file>',
  describe: 'Build a replayable cassette from a Bot Framework .transcript, a chatdown .chat file or a script (YAML/JSON): no bot needed',
  positionals: {
    file: { type: 'string', demandOption: true, describe: 'The .transcript, .chat, .yaml/.yml or .json file' },
  },
  options: {
    from: {
      type: 'string',
      choices: IMPORT_FORMATS,
      describe: 'Input format (default: from the extension: .transcript, .chat, .yaml/.yml/.json = script)',
    },
    output: { type: 'string', alias: 'o', demandOption: true, describe: 'Cassette file to write' },
    'max-gap': {
      type: 'number',
      default: DEFAULT_MAX_GAP_MS,
      coerce: maxGap,
      describe: 'transcript: the longest pause kept between two activities, in ms',
    },
  },
  examples: [
    ['$0 import recordings/demo/demo.yaml -o recordings/demo.json', 'the shipped demo, from its script'],
    ['$0 import chat.transcript -o my.json --max-gap 2000', 'an Emulator transcript; pauses over 2 s shortened'],
    ['$0 import mockup.chat -o mockup.json && $0 replay --cassette mockup.json', 'a chatdown mock-up, replayed in Web Chat'],
  ],
  handler: async (args) => {
    const logger = cliLogger('info');
    try {
      const cassette = await importFile(args.file, { from: args.from, maxGap: args['max-gap'] });
      await writeCassetteFile(args.output, cassette);
      const frames = cassette.events.filter((e) => e.type === 'ws.message').length;
      logger.info({ file: args.output, from: cassette.source?.from, events: cassette.events.length, frames }, `wrote ${args.output}`);
    } catch (err) {
      if (!(err instanceof ImportError)) throw err;
      logger.error(`${err.message} (no cassette written)`);
      process.exit(2);
    }
  },
});
