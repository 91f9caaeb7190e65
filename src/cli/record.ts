// `directline-vcr record`: the recording proxy.
import type { Options } from 'yargs';
import { startVcr, type Vcr } from '../vcr.js';
import { DEFAULT_UPSTREAM } from '../record/upstream.js';
import { JsonPath } from '../cassette/redact.js';
import { CONFIG_FILE_NAME, mergeRedactionRules } from '../config/config.js';
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
import { parseSpeed } from './replay.js';
import { defineCommand, negatable } from './command.js';
import { forwardFromArgs, forwardOptions } from '../forward/cli-options.js';
import { faultOptions, faultsFromArgs } from '../faults/cli-options.js';

/** Where Direct Line lives (docs/protocol.md#hosts): shown by `record --help`. */
export const UPSTREAM_HOSTS = [
  'Direct Line hosts for --upstream:',
  `  hosted service (default)  ${DEFAULT_UPSTREAM}`,
  '  Europe region bots        https://europe.directline.botframework.com/v3/directline',
  '  India region bots         https://india.directline.botframework.com/v3/directline',
  '  Web Chat channel host     https://webchat.botframework.com/v3/directline',
  '  Azure Government          https://webchat.botframework.azure.us/v3/directline',
  '  Azure China               https://directline.botframework.azure.cn/v3/directline',
  '  Copilot Studio (region)   https://unitedstates.directline.botframework.com/v3/directline',
  "Regional bots must use their region's host. A URL without a path gets /v3/directline.",
].join('\n');

const RECORD_DEFAULTS = { mode: 'record', upstream: DEFAULT_UPSTREAM, port: 4978, host: '127.0.0.1', flushInterval: 200 } as const;

/** An option whose default is applied after the config file (so the file can set it): shown in --help only. */
function configurable<O extends Options>(opt: O, shown: string | number): Omit<O, 'default'> & { defaultDescription: string } {
  const { default: _omitted, ...rest } = opt;
  return { ...rest, defaultDescription: `${shown}, or the config file's` };
}

// upstream, mode, port, host and flush-interval have no yargs default: a flag wins over the config file,
// which wins over the built-in default (RECORD_DEFAULTS).
export default defineCommand({
  command: 'record',
  describe: 'Proxy a Direct Line client to an upstream and write everything to a cassette',
  options: {
    config: {
      type: 'string',
      coerce: negatable,
      describe:
        'JSON file with redaction rules and record options (upstream, port, host, mode, flushInterval), fault rules (faults, seed); ' +
        `flags win over it and --redact-* flags add to its rules. Default: ./${CONFIG_FILE_NAME} when it exists; --no-config ignores it`,
    },
    upstream: {
      type: 'string',
      defaultDescription: "the hosted service, or the config file's",
      describe:
        `Direct Line service URL including its path prefix (default: the hosted service, ${DEFAULT_UPSTREAM}; ` +
        'a URL without a path gets /v3/directline). ' +
        'Regional, Web Chat channel, Azure Government/China and Copilot Studio hosts: see the examples',
    },
    cassette: { type: 'string', describe: 'Cassette file to write (JSON); not needed with --mode passthrough' },
    mode: {
      type: 'string',
      choices: ['record', 'auto', 'passthrough'] as const,
      defaultDescription: "record, or the config file's",
      describe:
        'record: always go upstream and rewrite the cassette; auto: replay the cassette if it holds a recording, else record it; ' +
        'passthrough: proxy and log, write nothing (for never going upstream use the replay command)',
    },
    speed: { type: 'string', default: '1', describe: 'With --mode auto when it replays: timing factor or "instant"' },
    ...serverOptions,
    port: configurable(serverOptions.port, RECORD_DEFAULTS.port),
    host: configurable(serverOptions.host, RECORD_DEFAULTS.host),
    'flush-interval': {
      type: 'number',
      defaultDescription: `${RECORD_DEFAULTS.flushInterval}, or the config file's`,
      describe: 'Longest time (ms) a captured event waits before it is written',
    },
    'redact-header': {
      type: 'string',
      array: true,
      default: [] as string[],
      describe: 'Extra header name whose value is replaced by a placeholder',
    },
    'redact-json-key': {
      type: 'string',
      array: true,
      default: [] as string[],
      describe: 'Extra JSON property whose string value is replaced',
    },
    'redact-json-path': {
      type: 'string',
      array: true,
      default: [] as string[],
      describe:
        'JSON path whose strings are replaced, e.g. ' +
        "'activities[*].channelData.secret', '$.value.password', '..apiKey' (README: JSON paths)",
    },
    'redact-pattern': {
      type: 'string',
      array: true,
      default: [] as string[],
      describe: 'Regular expression; every match in a body is replaced',
    },
    'demo-page': {
      type: 'boolean',
      default: true,
      describe:
        'Serve a Web Chat page at / to record by chatting ' +
        '(needs botframework-webchat installed; the secret is typed into the page, never given here)',
    },
    ca: {
      type: 'string',
      array: true,
      default: [] as string[],
      describe:
        "Extra CA certificate (PEM file) to trust for the upstream, on top of Node's roots, the system store and NODE_EXTRA_CA_CERTS " +
        "(e.g. a TLS-inspecting corporate proxy's CA); repeatable",
    },
    insecure: {
      type: 'boolean',
      default: false,
      describe: "Do not verify the upstream's TLS certificate (testing only; warns at every start). Prefer --ca",
    },
    proxy: {
      type: 'string',
      coerce: negatable,
      describe:
        'Outbound proxy for the upstream leg, HTTP and WebSocket (CONNECT), e.g. http://proxy.corp:8080. ' +
        'Default: HTTPS_PROXY/HTTP_PROXY with NO_PROXY from the environment; --proxy wins over them; --no-proxy ignores them',
    },
    ...listenerOptions,
    ...forwardOptions,
    ...faultOptions,
    ...inspectorOptions,
  },
  examples: [
    [
      '$0 record --forward --cassette my.json',
      'for a client that keeps its domain: run it with HTTPS_PROXY=http://127.0.0.1:4978 NODE_EXTRA_CA_CERTS=~/.directline-vcr/ca.pem',
    ],
    ['$0 record --cassette recordings/my-bot.json', 'record the hosted service; point the client at http://127.0.0.1:4978/v3/directline'],
    [`$0 record --config ${CONFIG_FILE_NAME} --redact-json-path '$.value.pin' --cassette my.json`, 'rules from a file, plus one more'],
    ['HTTPS_PROXY=http://proxy.corp:8080 $0 record --ca corp-root.pem --cassette my.json', 'behind a corporate proxy that inspects TLS'],
    [
      '$0 record --tls-cert localhost.pem --tls-key localhost-key.pem --cassette my.json',
      'listen on https:// (wss:// streams) for a page served over https',
    ],
    [
      '$0 record --mode auto --cassette test/fixtures/greeting.json --upstream http://localhost:3978/v3/directline',
      'first run records, later runs replay',
    ],
    ['$0 record --upstream http://127.0.0.1:3000/directline --cassette emu.json', 'record an emulator that serves /directline'],
    [
      "$0 record --cassette my.json --fault 'status=429@route=activities.post,nth=1'",
      'the client sees a 429 on its first post (never forwarded); the cassette notes it',
    ],
  ],
  epilogue: UPSTREAM_HOSTS,
  handler: async (args) => {
    const logger = cliLogger(args['log-level']);
    const config = await configOrExit(logger, args.config);
    if (config) {
      const FOUND_HERE = ' (found in the current directory; --no-config ignores it)';
      logger.info({ config: config.file }, `using the config file ${config.file}${args.config === undefined ? FOUND_HERE : ''}`);
    }
    const mode = args.mode ?? config?.mode ?? RECORD_DEFAULTS.mode;
    if (mode !== 'passthrough' && !args.cassette)
      failStart(logger, 'cannot start', new Error(`--cassette is required with --mode ${mode}`));
    let vcr: Vcr;
    try {
      const patterns = args['redact-pattern'].map((p) => new RegExp(p));
      for (const p of args['redact-json-path']) JsonPath.parse(p); // before anything is written
      vcr = await startVcr({
        mode,
        upstream: args.upstream ?? config?.record.upstream ?? RECORD_DEFAULTS.upstream,
        cassette: args.cassette,
        port: args.port ?? config?.record.port ?? RECORD_DEFAULTS.port,
        host: args.host ?? config?.record.host ?? RECORD_DEFAULTS.host,
        logger,
        flushIntervalMs: args['flush-interval'] ?? config?.record.flushIntervalMs ?? RECORD_DEFAULTS.flushInterval,
        redact: mergeRedactionRules(config?.record.redact, {
          headers: args['redact-header'],
          jsonKeys: args['redact-json-key'],
          jsonPaths: args['redact-json-path'],
          patterns,
        }),
        demoPage: args['demo-page'],
        speed: parseSpeed(args.speed),
        ca: args.ca.length ? args.ca : undefined,
        insecure: args.insecure,
        proxy: args.proxy,
        tls: listenerTls(args),
        forward: forwardFromArgs(args),
        allowOrigin: args['allow-origin'],
        inspector: inspectorOption(args),
        ...faultsFromArgs(args, config),
      });
    } catch (err) {
      failStart(logger, 'cannot start the recorder', err);
    }
    const r = vcr;
    const what =
      r.mode === 'record'
        ? `is recording to ${r.cassettePath}`
        : r.mode === 'replay'
          ? `is replaying ${r.cassettePath} (--mode auto found a recording; offline)`
          : 'is proxying (passthrough: nothing is written)';
    const giveCredentials = r.mode === 'replay' ? '' : " and give the bot's secret or token there (#secret=… in the URL, or the form)";
    process.stdout.write(
      [
        `directline-vcr ${what}`,
        `Point your Direct Line client at:  domain = ${r.domain}`,
        ...(r.demoPageUrl ? [`Or chat in Web Chat: open ${r.demoPageUrl}${giveCredentials}`] : []),
        ...(r.inspectorUrl ? [`Inspector (the traffic as it is captured): open ${r.inspectorUrl}`] : []),
        `Stop with Ctrl+C${r.mode === 'record' ? ' (everything seen is written)' : ''}.`,
        '',
      ].join('\n'),
    );
    onStopSignal(logger, async () => {
      await r.close();
      const f = r.faultSummary();
      if (f.injected > 0) {
        process.stdout.write(`record summary: ${f.injected} fault(s) injected (noted in the cassette)\n`);
        for (const [rule, n] of Object.entries(f.byRule)) process.stdout.write(`  fault: ${rule} × ${n}\n`);
      }
    });
  },
});
