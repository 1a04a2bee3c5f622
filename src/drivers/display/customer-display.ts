import type { EventBus } from '../../bus.js';
import { describeError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { type DeviceSnapshot, type DeviceState, type PosDevice, reportedState } from '../device.js';
import type { DeviceLink } from '../device-link.js';
import type { VfdCommandSet } from './command-sets.js';
import { type DisplayLines, type DisplayScreen, renderScreen } from './screens.js';

export interface CustomerDisplayOptions {
  link: DeviceLink;
  commands: VfdCommandSet;
  log: Logger;
  uri: string;
  /** When given, `display.show` events drive the display. */
  bus?: EventBus;
}

/**
 * A 2x20 VFD customer display. Keeps the screen it should show; each time the device (re)opens
 * it is initialised and shown that screen again, so a replugged or power-cycled display catches
 * up. Writes go one at a time, in order.
 */
export class CustomerDisplay implements PosDevice {
  readonly kind = 'display' as const;
  private opened = false;
  private lines: DisplayLines = renderScreen({ screen: 'idle' });
  private chain: Promise<void> = Promise.resolve();
  private writeError: string | undefined;
  private readonly off: Array<() => void> = [];

  constructor(private readonly o: CustomerDisplayOptions) {}

  get state(): DeviceState {
    if (!this.opened) return 'closed';
    if (this.o.link.state !== 'open') return 'degraded';
    return this.writeError ? 'error' : 'idle';
  }

  async open(): Promise<void> {
    if (this.opened) return;
    this.opened = true;
    this.off.push(
      this.o.link.onState((state) => {
        if (state === 'open') void this.send(true);
      }),
    );
    if (this.o.bus) {
      this.off.push(
        this.o.bus.on('display.show', (e) => {
          void this.show(e.data).catch((err: unknown) =>
            this.o.log.warn({ err: describeError(err) }, 'display screen refused'),
          );
        }),
      );
    }
    await this.o.link.open();
  }

  async close(): Promise<void> {
    if (!this.opened) return;
    this.opened = false;
    for (const off of this.off.splice(0)) off();
    await this.chain;
    await this.o.link.close();
  }

  /** Renders and sends a screen (throws AMOUNT_INVALID for an amount that is not integer fen). */
  show(screen: DisplayScreen): Promise<void> {
    this.lines = renderScreen(screen);
    return this.send(false);
  }

  /** The two lines the display should be showing now. */
  current(): DisplayLines {
    return [this.lines[0], this.lines[1]];
  }

  snapshot(): DeviceSnapshot {
    const err = this.o.link.lastError;
    return {
      state: reportedState(this.state, true),
      uri: this.o.uri,
      commandSet: this.o.commands.name,
      ...(this.o.link.identity !== undefined ? { identity: this.o.link.identity } : {}),
      lines: this.current(),
      ...(this.state === 'degraded' && err ? { error: { code: err.code, message: err.message } } : {}),
      ...(this.writeError ? { error: { code: 'DEVICE_UNAVAILABLE', message: this.writeError } } : {}),
    };
  }

  private send(init: boolean): Promise<void> {
    const run = async () => {
      if (this.o.link.state !== 'open') return; // shown on reconnect
      const lines = this.lines;
      const bytes = this.o.commands.show(lines);
      const payload = init ? Buffer.concat([this.o.commands.init(), bytes]) : bytes;
      try {
        await this.o.link.write(payload);
        this.writeError = undefined;
      } catch (err) {
        // The link notices an unplug by itself; this is for a device that refuses bytes.
        this.writeError = describeError(err);
        this.o.log.warn({ err: this.writeError }, 'display write failed');
      }
    };
    this.chain = this.chain.then(run, run);
    return this.chain;
  }
}
