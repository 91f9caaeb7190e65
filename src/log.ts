// One pino logger for the whole tool: JSON lines by default, pretty on a terminal. Nothing secret is
// ever handed to it (callers log redacted paths and routes), and pino's redact paths are a second net.
import { pino, type Logger, type DestinationStream } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export interface LogOptions {
  level?: string;
  /** Where lines go; default stderr (pretty when it is a terminal). Tests pass a stream to capture lines. */
  destination?: DestinationStream;
  pretty?: boolean;
}

const REDACT_PATHS = [
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  'token',
  'secret',
  '*.token',
  '*.secret',
  '*.authorization',
];

export function createLogger(opts: LogOptions = {}): Logger {
  const level = opts.level ?? process.env.DLVCR_LOG_LEVEL ?? 'info';
  const base = { level, base: { name: 'directline-vcr' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  if (opts.destination) return pino(base, opts.destination);
  const usePretty = opts.pretty ?? Boolean(process.stderr.isTTY);
  if (usePretty) {
    return pino(
      base,
      pretty({ destination: 2, sync: true, colorize: true, singleLine: true, ignore: 'pid,hostname,name', translateTime: 'HH:MM:ss.l' }),
    );
  }
  return pino(base, pino.destination({ dest: 2, sync: true }));
}

/** A logger that drops everything (programmatic use without logs). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
