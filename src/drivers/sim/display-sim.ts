import { Listeners } from '../transport/listeners.js';
import { SimLink } from './sim-link.js';
import { VfdInterpreter } from './vfd-interpreter.js';

/** A simulated 2x20 VFD: keeps the text the commands it was sent put on the glass. */
export class DisplaySim extends SimLink {
  private vfd = new VfdInterpreter();
  private readonly changed = new Listeners<[[string, string]]>();

  constructor(name = 'display') {
    super({ kind: 'sim', name, options: {} });
  }

  write(data: Uint8Array): Promise<void> {
    if (this.current !== 'open') return Promise.reject(this.notOpen());
    this.vfd.feed(data);
    this.changed.emit(this.lines());
    return Promise.resolve();
  }

  lines(): [string, string] {
    return this.vfd.lines();
  }

  get junkBytes(): number {
    return this.vfd.junkBytes;
  }

  onChange(listener: (lines: [string, string]) => void): () => void {
    return this.changed.add(listener);
  }

  /** A power cycle: the glass goes blank and forgets its modes. */
  powerCycle(): void {
    this.vfd = new VfdInterpreter();
  }
}
