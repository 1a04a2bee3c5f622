import type { PosError } from '../errors.js';
import type { DeviceKind, DeviceSnapshot, PosDevice } from './device.js';

export type DeviceAddressError = PosError;

/** A device whose address cannot be used (bad URI, wrong kind): in `error`, never a crash. */
export class UnusableDevice implements PosDevice {
  readonly state = 'error' as const;

  constructor(
    readonly kind: DeviceKind,
    private readonly uri: string,
    private readonly error: DeviceAddressError,
  ) {}

  open(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  snapshot(): DeviceSnapshot {
    return { state: 'error', uri: this.uri, error: { code: this.error.code, message: this.error.message } };
  }
}
