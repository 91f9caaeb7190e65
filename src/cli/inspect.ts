// `directline-vcr inspect`: a cassette as a timeline a person can follow, in the terminal or (--web) in
// the browser.
import { basename } from 'node:path';
import { renderTimeline } from '../inspect/index.js';
import { DEFAULT_INSPECTOR_PORT, startInspector, type Inspector } from '../inspector/index.js';
import { cliLogger, failStart, loadCassetteOrExit, onStopSignal } from './common.js';
import { defineCommand } from './command.js';

export default defineCommand({
  command: 'inspect <cassette..>',
  describe:
    'Print a cassette as a timeline (requests, stream frames, keep-alives, closes and the waits between them), ' +
    'or open it in the browser with --web',
  positionals: {
    cassette: { type: 'string', array: true, demandOption: true, describe: 'Cassette file (--web: one or more)' },
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
    web: {
      type: 'boolean',
      default: false,
      describe: 'Serve the web inspector on 127.0.0.1 and print its URL: timeline, details, the chat as the user saw it',
    },
    port: { type: 'number', default: DEFAULT_INSPECTOR_PORT, describe: 'Port for --web (0 = any free port)' },
  },
  examples: [
    ['$0 inspect recordings/demo.json', 'the whole timeline'],
    ['$0 inspect recordings/demo.json --type message --json', 'message activities as JSON rows'],
    ['$0 inspect --web recordings/*.json', 'open the cassettes in the browser (http://127.0.0.1:4979/)'],
  ],
  handler: async (args) => {
    const logger = cliLogger('info');
    if (args.web) {
      // Loaded here so a bad file is named with its problem; each is read once.
      const cassettes = [];
      for (const file of args.cassette) cassettes.push({ cassette: await loadCassetteOrExit(logger, file), name: basename(file) });
      let inspector: Inspector;
      try {
        inspector = await startInspector({ cassettes, port: args.port, logger });
      } catch (err) {
        failStart(logger, 'cannot start the inspector', err);
      }
      process.stdout.write(
        `directline-vcr inspector: open ${inspector.url}\n(${args.cassette.join(', ')}; served on 127.0.0.1 only)\nStop with Ctrl+C.\n`,
      );
      onStopSignal(logger, () => inspector.close());
      return;
    }
    if (args.cassette.length > 1)
      failStart(logger, 'inspect', new Error(`one cassette at a time in the terminal (got ${args.cassette.length}); --web shows several`));
    const cassette = await loadCassetteOrExit(logger, args.cassette[0]);
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
