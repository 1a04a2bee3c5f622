import { Writable } from 'node:stream';
import { createRootLogger, type Logger } from '../../../../src/log.js';

/** A real pino logger whose lines are kept for assertions. */
export function captureLog(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { log: createRootLogger('debug', sink), lines };
}
