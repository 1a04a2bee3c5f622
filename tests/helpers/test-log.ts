import { createRootLogger, type Logger } from '../../src/log.js';

export function silentLogger(): Logger {
  return createRootLogger('silent');
}
