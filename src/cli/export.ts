// `directline-vcr export`: a cassette in formats other tools open (HAR, Bot Framework transcript).
import { writeFile } from 'node:fs/promises';
import { toHar, toTranscript } from '../inspect/index.js';
import { cliLogger, loadCassetteOrExit } from './common.js';
import { defineCommand } from './command.js';

export default defineCommand({
  command: 'export <cassette>',
  describe: 'Export a cassette as HAR 1.2 (Chrome DevTools, HAR viewers) or a Bot Framework .transcript (Bot Framework Emulator)',
  positionals: {
    cassette: { type: 'string', demandOption: true, describe: 'Cassette file' },
  },
  options: {
    format: { type: 'string', choices: ['har', 'transcript'], demandOption: true, describe: 'Output format' },
    output: { type: 'string', alias: 'o', describe: 'Write to this file instead of stdout' },
    conversation: { type: 'string', describe: 'transcript: only this conversation' },
    typing: { type: 'boolean', default: true, describe: 'transcript: include typing activities (--no-typing drops them)' },
  },
  examples: [
    ['$0 export recordings/demo.json --format har -o demo.har', 'open demo.har in DevTools (Network → Import HAR)'],
    ['$0 export recordings/demo.json --format transcript -o demo.transcript', 'open it in the Bot Framework Emulator'],
  ],
  handler: async (args) => {
    const logger = cliLogger('info');
    const cassette = await loadCassetteOrExit(logger, args.cassette);
    const out = args.format === 'har' ? toHar(cassette) : toTranscript(cassette, { conversation: args.conversation, typing: args.typing });
    const text = JSON.stringify(out, null, 2) + '\n';
    if (args.output) {
      await writeFile(args.output, text);
      logger.info({ file: args.output, format: args.format }, `wrote ${args.output}`);
    } else {
      process.stdout.write(text);
    }
  },
});
