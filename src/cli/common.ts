// Options and helpers shared by the server commands.
import type { Options } from 'yargs';
import type { Logger } from 'pino';
import { createLogger } from '../log.js';

export const serverOptions = {
  port: { type: 'number', default: 4978, describe: 'Port to listen on (0 = any free port)' },
  host: { type: 'string', default: '127.0.0.1', describe: 'Address to listen on; only loopback unless you say otherwise' },
  'log-level': { type: 'string', default: 'info', choices: ['trace', 'debug', 'info', 'warn', 'error', 'silent'], describe: 'Log level (debug shows every frame)' },
} as const satisfies Record<string, Options>;

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
  const detail = e.code === 'EADDRINUSE' ? `the port is already in use (${e.message}); pick another with --port`
    : e.message;
  logger.error(`${what}: ${detail}`);
  process.exit(2);
}
