import { PosError } from '../../errors.js';

/** Maps an OS error (open, write, connect) to a stable code, keeping the OS error as the cause. */
export function deviceError(err: unknown, target: string, action: string): PosError {
  if (err instanceof PosError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const text = err instanceof Error ? err.message : String(err);
  const context = { target, action, ...(code ? { errno: code } : {}) };
  switch (code) {
    case 'ENOENT':
    case 'ENODEV':
    case 'ENXIO':
    case 'ENOTFOUND':
      return new PosError('DEVICE_NOT_FOUND', `${target}: not found (${text})`, context, err);
    case 'EBUSY':
    case 'EACCES':
    case 'EPERM':
      return new PosError('DEVICE_BUSY', `${target}: cannot be opened (${text})`, context, err);
    case 'EPIPE':
    case 'ECONNRESET':
    case 'EIO':
      return new PosError('DEVICE_DISCONNECTED', `${target}: connection lost (${text})`, context, err);
    case 'ETIMEDOUT':
      return new PosError('DEVICE_TIMEOUT', `${target}: timed out (${text})`, context, err);
    default:
      return new PosError('DEVICE_UNAVAILABLE', `${target}: ${action} failed (${text})`, context, err);
  }
}

export function notOpen(target: string): PosError {
  return new PosError('DEVICE_DISCONNECTED', `${target}: not open`, { target });
}
