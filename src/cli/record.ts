// `directline-vcr record`: the recording proxy.
import type { CommandModule } from 'yargs';
import { startVcr, type Vcr } from '../vcr.js';
import { DEFAULT_UPSTREAM } from '../record/upstream.js';
import { cliLogger, failStart, onStopSignal, serverOptions } from './common.js';
import { parseSpeed } from './replay.js';

interface RecordArgs {
  mode: 'record' | 'auto' | 'passthrough';
  upstream: string;
  cassette?: string;
  speed: string;
  port: number;
  host: string;
  'log-level': string;
  'flush-interval': number;
  'redact-header': string[];
  'redact-json-key': string[];
  'redact-pattern': string[];
  'demo-page': boolean;
}

export const recordCommand: CommandModule<object, RecordArgs> = {
  command: 'record',
  describe: 'Proxy a Direct Line client to an upstream and write everything to a cassette',
  builder: (y) =>
    y
      .options({
        upstream: { type: 'string', default: DEFAULT_UPSTREAM, describe: 'Direct Line service URL including its path prefix' },
        cassette: { type: 'string', describe: 'Cassette file to write (JSON); not needed with --mode passthrough' },
        mode: {
          type: 'string', choices: ['record', 'auto', 'passthrough'] as const, default: 'record' as const,
          describe: 'record: always go upstream and rewrite the cassette; auto: replay the cassette if it holds a recording, else record it; passthrough: proxy and log, write nothing (for never going upstream use the replay command)',
        },
        speed: { type: 'string', default: '1', describe: 'With --mode auto when it replays: timing factor or "instant"' },
        ...serverOptions,
        'flush-interval': { type: 'number', default: 200, describe: 'Longest time (ms) a captured event waits before it is written' },
        'redact-header': { type: 'string', array: true, default: [], describe: 'Extra header name whose value is replaced by a placeholder' },
        'redact-json-key': { type: 'string', array: true, default: [], describe: 'Extra JSON property whose string value is replaced' },
        'redact-pattern': { type: 'string', array: true, default: [], describe: 'Regular expression; every match in a body is replaced' },
        'demo-page': { type: 'boolean', default: true, describe: 'Serve a Web Chat page at / to record by chatting (needs botframework-webchat installed; the secret is typed into the page, never given here)' },
      })
      .example('$0 record --mode auto --cassette test/fixtures/greeting.json --upstream http://localhost:3978/v3/directline', 'first run records, later runs replay')
      .example('$0 record --cassette recordings/my-bot.json', 'record the hosted service; point the client at http://127.0.0.1:4978/v3/directline')
      .example('$0 record --upstream http://127.0.0.1:3000/directline --cassette emu.json', 'record an emulator that serves /directline') as never,
  handler: async (args) => {
    const logger = cliLogger(args['log-level']);
    if (args.mode !== 'passthrough' && !args.cassette) failStart(logger, 'cannot start', new Error(`--cassette is required with --mode ${args.mode}`));
    let vcr: Vcr;
    try {
      const patterns = args['redact-pattern'].map((p) => new RegExp(p));
      vcr = await startVcr({
        mode: args.mode,
        upstream: args.upstream,
        cassette: args.cassette,
        port: args.port,
        host: args.host,
        logger,
        flushIntervalMs: args['flush-interval'],
        redact: { headers: args['redact-header'], jsonKeys: args['redact-json-key'], patterns },
        demoPage: args['demo-page'],
        speed: parseSpeed(args.speed),
      });
    } catch (err) {
      failStart(logger, 'cannot start the recorder', err);
    }
    const r = vcr;
    const what = r.mode === 'record' ? `is recording to ${r.cassettePath}` : r.mode === 'replay' ? `is replaying ${r.cassettePath} (--mode auto found a recording; offline)` : 'is proxying (passthrough: nothing is written)';
    process.stdout.write(`directline-vcr ${what}\nPoint your Direct Line client at:  domain = ${r.domain}\n${r.demoPageUrl ? `Or chat in Web Chat: open ${r.demoPageUrl}${r.mode === 'replay' ? '' : " and give the bot's secret or token there (#secret=… in the URL, or the form)"}\n` : ''}Stop with Ctrl+C${r.mode === 'record' ? ' (everything seen is written)' : ''}.\n`);
    onStopSignal(logger, () => r.close());
  },
};
