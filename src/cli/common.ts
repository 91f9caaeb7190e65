// Options and helpers shared by the server commands.
import type { Options } from 'yargs';
import type { Logger } from 'pino';
import { createLogger } from '../log.js';
import { findConfigFile, loadConfig, type VcrConfig } from '../config/config.js';
import { loadCassette } from '../cassette/load.js';
import type { Cassette } from '../cassette/schema.js';

export const serverOptions = {
  port: { type: 'number', default: 4978, describe: 'Port to listen on (0 = any free port)' },
  host: { type: 'string', default: '127.0.0.1', describe: 'Address to listen on; only loopback unless you say otherwise' },
  'log-level': {
    type: 'string',
    default: 'info',
    choices: ['trace', 'debug', 'info', 'warn', 'error', 'silent'],
    describe: 'Log level (debug shows every frame)',
  },
} as const satisfies Record<string, Options>;

/** The listener side shared by record and replay: TLS (https:// + wss://) and which browser origins may call. */
export const listenerOptions = {
  'tls-cert': {
    type: 'string',
    describe: 'PEM certificate (chain, leaf first) to listen with TLS: https:// and wss:// streamUrls (needs --tls-key)',
    implies: 'tls-key',
  },
  'tls-key': { type: 'string', describe: 'PEM private key of --tls-cert', implies: 'tls-cert' },
  'allow-origin': {
    type: 'string',
    array: true,
    default: [] as string[],
    describe:
      'Browser origin allowed to call (CORS, WebSocket Origin), e.g. https://my-app.example; repeat or comma-separate. ' +
      'Default: any origin. Preflights, Private Network Access included, are answered locally',
  },
} as const satisfies Record<string, Options>;

/** The live web inspector on record and replay (src/inspector/). */
export const inspectorOptions = {
  inspector: {
    type: 'boolean',
    default: false,
    describe: 'Serve the web inspector at /_vcr/ on the same port: the traffic as it happens (placeholders, never secrets)',
  },
  'inspector-remote': {
    type: 'boolean',
    default: false,
    describe: 'Let other machines open /_vcr/ (only with --host other than loopback; otherwise it answers this machine only)',
  },
} as const satisfies Record<string, Options>;

/** --inspector/--inspector-remote as the API's `inspector` option. */
export function inspectorOption(args: { inspector: boolean; 'inspector-remote': boolean }): boolean | { allowRemote: true } {
  return args.inspector ? (args['inspector-remote'] ? { allowRemote: true } : true) : false;
}

/** --tls-cert/--tls-key as the API's `tls` option (file paths; read at start). */
export function listenerTls(args: { 'tls-cert'?: string; 'tls-key'?: string }): { cert: string; key: string } | undefined {
  return args['tls-cert'] && args['tls-key'] ? { cert: args['tls-cert'], key: args['tls-key'] } : undefined;
}

export function cliLogger(level: string): Logger {
  return createLogger({ level });
}

/** Runs `stop` once on SIGINT/SIGTERM, then exits; a second signal exits at once. */
export function onStopSignal(logger: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    stopping = true;
    logger.info({ signal }, `${signal}: stopping`);
    stop().then(
      () => process.exit(0),
      (err: Error) => {
        logger.error({ err: err.message }, 'failed while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

/** Logs a start-up failure in words a person can act on, and exits non-zero. */
export function failStart(logger: Logger, what: string, err: unknown): never {
  const e = err as NodeJS.ErrnoException;
  const detail = e.code === 'EADDRINUSE' ? `the port is already in use (${e.message}); pick another with --port` : e.message;
  logger.error(`${what}: ${detail}`);
  process.exit(2);
}

/** Loads and validates a cassette for a reading command, or exits 2 with the file and the problem. */
export async function loadCassetteOrExit(logger: Logger, file: string): Promise<Cassette> {
  try {
    return await loadCassette(file);
  } catch (err) {
    failStart(logger, 'cannot read the cassette', err);
  }
}

/** --config FILE, else ./directline-vcr.config.json when there is one; --no-config: none. Exits 2 on a bad file. */
export async function configOrExit(logger: Logger, flag: string | false | undefined): Promise<VcrConfig | null> {
  const file = flag === false ? null : (flag ?? findConfigFile());
  if (!file) return null;
  try {
    return await loadConfig(file);
  } catch (err) {
    failStart(logger, 'cannot use the config file', err);
  }
}
