// `directline-vcr inspect`: a cassette as a timeline a person can follow.
import { renderTimeline } from '../inspect/index.js';
import { cliLogger, loadCassetteOrExit } from './common.js';
import { defineCommand } from './command.js';

export default defineCommand({
  command: 'inspect <cassette>',
  describe: 'Print a cassette as a timeline: requests, stream frames, keep-alives, closes and the waits between them',
  positionals: {
    cassette: { type: 'string', demandOption: true, describe: 'Cassette file' },
  },
  options: {
    conversation: { type: 'string', describe: 'Only this conversation (full id or a prefix)' },
    type: {
      type: 'string',
      array: true,
      default: [] as string[],
      describe:
        'Only these kinds: http, ws, a route (activities.post), an activity type (message, typing), ' +
        'keepalive, ping, open, close, error, fault (an injected fault)',
    },
    json: { type: 'boolean', default: false, describe: 'Machine-readable rows (JSON) instead of text' },
    color: { type: 'boolean', describe: 'Colour output (default: on when stdout is a terminal and NO_COLOR is unset)' },
    'gap-ms': { type: 'number', default: 1000, describe: 'Show pauses longer than this before a frame' },
    width: { type: 'number', default: 60, describe: 'Characters of activity text to show' },
  },
  examples: [
    ['$0 inspect recordings/demo.json', 'the whole timeline'],
    ['$0 inspect recordings/demo.json --type message --json', 'message activities as JSON rows'],
  ],
  handler: async (args) => {
    const logger = cliLogger('info');
    const cassette = await loadCassetteOrExit(logger, args.cassette);
    const types = args.type.flatMap((t) => t.split(',')).filter(Boolean);
    const base = { conversation: args.conversation, types: types.length ? types : undefined, gapMs: args['gap-ms'], textWidth: args.width };
    if (args.json) {
      process.stdout.write(JSON.stringify(renderTimeline(cassette, { ...base, json: true }), null, 2) + '\n');
      return;
    }
    const color = args.color ?? (Boolean(process.stdout.isTTY) && !process.env.NO_COLOR);
    process.stdout.write(renderTimeline(cassette, { ...base, color }) + '\n');
  },
});
