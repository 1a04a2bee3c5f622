import { Writable } from 'node:stream';
import { createRootLogger, type Logger } from '../../../src/log.js';

/** A real pino logger (at debug) that counts and keeps its lines, to bound what hostile input logs. */
export function countingLog(keep = 50): { log: Logger; count: () => number; lines: string[] } {
  let n = 0;
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      n += 1;
      if (lines.length < keep) lines.push(String(chunk));
      done();
    },
  });
  return { log: createRootLogger('debug', sink), count: () => n, lines };
}
