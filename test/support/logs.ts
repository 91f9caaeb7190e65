// A pino logger whose JSON lines the test can read (every line parsed, debug and up).
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log.js';

export interface CapturedLogs {
  lines: any[];
  logger: Logger;
}

export function captureLogs(level = 'debug'): CapturedLogs {
  const lines: any[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { lines, logger: createLogger({ destination, level }) };
}
