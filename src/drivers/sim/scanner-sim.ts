import { PosError } from '../../errors.js';
import { SimLink } from './sim-link.js';

/**
 * A simulated serial scanner: `inject(code)` sends the code with a CRLF suffix as the scanner's
 * bytes, so it goes through the same framing, classification and `scan` event as a real scan.
 */
export class ScannerSim extends SimLink {
  constructor(name = 'scanner') {
    super({ kind: 'sim', name, options: {} });
  }

  inject(code: string): void {
    if (code === '' || /[\r\n]/.test(code)) {
      throw new PosError('VALIDATION_FAILED', 'a scanned code is one non-empty line', {});
    }
    if (this.current !== 'open')
      throw new PosError('DEVICE_UNAVAILABLE', 'the simulated scanner is not open', {});
    this.data.emit(Buffer.from(`${code}\r\n`, 'utf8'));
  }

  /** Raw bytes as a scanner would send them (split reads, line noise). */
  send(bytes: Uint8Array): void {
    if (this.current === 'open') this.data.emit(Buffer.from(bytes));
  }

  write(): Promise<void> {
    return this.current === 'open' ? Promise.resolve() : Promise.reject(this.notOpen());
  }
}
