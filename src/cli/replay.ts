// `directline-vcr replay`: serves a cassette offline to an unchanged Direct Line client.
import { startReplayer, type Replayer } from '../replay/index.js';
import { CONFIG_FILE_NAME } from '../config/config.js';
import {
  cliLogger,
  failStart,
  inspectorOption,
  inspectorOptions,
  listenerOptions,
  listenerTls,
  onStopSignal,
  serverOptions,
  configOrExit,
} from './common.js';
import { defineCommand, negatable } from './command.js';
import { forwardFromArgs, forwardOptions } from '../forward/cli-options.js';
import { faultOptions, faultsFromArgs } from '../faults/cli-options.js';

function sessionIdleMs(seconds: number): number {
  if (!Number.isFinite(seconds) || seconds < 0) throw new Error(`--session-idle must be a number of seconds ≥ 0, got "${seconds}"`);
  return seconds * 1000;
}

/** '4' → 4, 'instant' → 0 (order kept, no waits). */
export function parseSpeed(raw: string): number {
  if (raw === 'instant') return 0;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--speed must be a positive number or "instant", got "${raw}"`);
  return n;
}

export default defineCommand({
  command: 'replay',
  describe: 'Serve a cassette offline: same status codes, bodies, frames and (causal) timing',
  options: {
    cassette: { type: 'string', demandOption: true, describe: 'Cassette file to serve' },
    ...serverOptions,
    'demo-page': {
      type: 'boolean',
      default: true,
      describe: 'Serve a Web Chat page at / that replays the cassette in a browser (needs botframework-webchat installed)',
    },
    speed: {
      type: 'string',
      default: '1',
      describe: 'Timing factor: 1 = as recorded, 4 = four times faster, "instant" = no waits (order kept)',
    },
    instance: {
      type: 'string',
      describe:
        'Id of this process among several behind a reverse proxy: its conversation ids and tokens carry it, ' +
        'so the proxy routes each conversation back here (examples/scale-out/)',
    },
    'public-url': {
      type: 'string',
      describe: 'Where clients reach this server (e.g. the reverse proxy in front of it): streamUrls point there',
    },
    match: {
      type: 'string',
      choices: ['strict', 'loose'],
      default: 'strict',
      describe:
        'strict: a posted message must have the recorded text. loose (for live demos only): any message is answered as the ' +
        'next recorded turn',
    },
    'session-idle': {
      type: 'number',
      default: 600,
      describe:
        'Seconds a conversation may go unused (no stream open, no request) before its state is freed; a client coming back ' +
        'later resumes from its watermark. 0 = never',
    },
    ...listenerOptions,
    ...forwardOptions,
    ...faultOptions,
    ...inspectorOptions,
    config: {
      type: 'string',
      coerce: negatable,
      describe: `JSON file whose "faults" and "seed" apply (default: ./${CONFIG_FILE_NAME} when it exists; --no-config ignores it)`,
    },
  },
  examples: [
    [
      '$0 replay --forward --forward-only-directline --cassette my.json',
      'for a client that keeps its domain (HTTPS_PROXY=http://127.0.0.1:4978); other hosts refused',
    ],
    ['$0 replay --cassette recordings/demo.json', 'point the client at http://127.0.0.1:4978/v3/directline'],
    ['$0 replay --cassette recordings/demo.json --inspector', 'and watch sessions and mismatches at http://127.0.0.1:4978/_vcr/'],
    [
      "$0 replay --cassette my.json --fault 'drop-stream@frame=3' --fault 'status=429@route=activities.post,nth=2'",
      'rehearse a dropped stream and throttling',
    ],
    ['$0 replay --cassette my.json --speed instant --port 0', 'for CI: no waits, any free port'],
    [
      '$0 replay --cassette my.json --tls-cert localhost.pem --tls-key localhost-key.pem',
      'https:// and wss:// for a page served over https',
    ],
    ['$0 replay --cassette my.json --allow-origin https://my-app.example', 'only that page (and non-browser clients) may call'],
    [
      '$0 replay --cassette my.json --port 5001 --instance a --public-url http://127.0.0.1:8080',
      'one of several processes behind a reverse proxy on :8080 (examples/scale-out/)',
    ],
  ],
  handler: async (args) => {
    const logger = cliLogger(args['log-level']);
    // Only the config file's faults apply to a replay.
    const config = await configOrExit(logger, args.config);
    if (config) {
      if (config.faults.faults.length)
        logger.info({ config: config.file, faults: config.faults.faults }, `fault rules from ${config.file}`);
    }
    let replayer: Replayer;
    try {
      replayer = await startReplayer({
        cassette: args.cassette,
        port: args.port,
        host: args.host,
        speed: parseSpeed(args.speed),
        match: args.match,
        logger,
        demoPage: args['demo-page'],
        tls: listenerTls(args),
        allowOrigin: args['allow-origin'],
        forward: forwardFromArgs(args),
        inspector: inspectorOption(args),
        ...faultsFromArgs(args, config),
        instance: args.instance,
        publicUrl: args['public-url'],
        sessionIdleMs: sessionIdleMs(args['session-idle']),
      });
    } catch (err) {
      failStart(logger, 'cannot start the replay server', err);
    }
    const r = replayer;
    process.stdout.write(
      [
        `directline-vcr is replaying ${args.cassette} (offline; speed ` +
          `${args.speed}${args.match === 'loose' ? '; --match loose: any message advances to the next recorded turn' : ''})`,
        `Point your Direct Line client at:  domain = ${r.domain}`,
        `  botframework-directlinejs:  new DirectLine({ domain: '${r.domain}', token: 'any' })`,
        `  Web Chat:                   WebChat.createDirectLine({ domain: '${r.domain}', token: 'any' })`,
        ...(r.demoPageUrl ? [`Or watch it in Web Chat: open ${r.demoPageUrl}`] : []),
        ...(r.inspectorUrl ? [`Inspector (sessions, matches, mismatches as they happen): open ${r.inspectorUrl}`] : []),
        'Stop with Ctrl+C.',
        '',
      ].join('\n'),
    );
    onStopSignal(logger, async () => {
      const s = r.summary();
      await r.close();
      const who = args.instance === undefined ? '' : ` (instance ${args.instance})`;
      process.stdout.write(
        `replay summary${who}: ${s.conversations} conversation(s) served, ${s.matched} request(s) matched, ${s.unmatched} unmatched, ` +
          `${s.faults.injected} fault(s) injected\n`,
      );
      for (const u of s.unmatchedRequests) process.stdout.write(`  unmatched: ${u.method} ${u.path} (${u.reason})\n`);
      for (const [rule, n] of Object.entries(s.faults.byRule)) process.stdout.write(`  fault: ${rule} × ${n}\n`);
    });
  },
});
