import { describeError } from '../errors.js';
import type { Logger } from '../log.js';

export type ComponentHealth = 'ok' | 'degraded' | 'stopped';

/** A part of the daemon with an ordered start and a reverse-order stop. */
export interface Component {
  readonly name: string;
  start(): Promise<void> | void;
  stop(): Promise<void> | void;
  health?(): ComponentHealth;
}

export class Lifecycle {
  private readonly components: Component[] = [];
  private readonly started: Component[] = [];

  constructor(private readonly log: Logger) {}

  add(component: Component): void {
    this.components.push(component);
  }

  /** Starts in order; if one fails, stops those already started and rethrows. */
  async start(): Promise<void> {
    for (const component of this.components) {
      try {
        await component.start();
        this.started.push(component);
        this.log.debug({ component: component.name }, 'started');
      } catch (err) {
        this.log.error({ component: component.name, err: describeError(err) }, 'start failed');
        await this.stop();
        throw err;
      }
    }
  }

  /** Stops in reverse order; a component that fails to stop is logged and does not hold up the rest. */
  async stop(): Promise<void> {
    while (this.started.length > 0) {
      const component = this.started.pop()!;
      try {
        await component.stop();
        this.log.debug({ component: component.name }, 'stopped');
      } catch (err) {
        this.log.error({ component: component.name, err: describeError(err) }, 'stop failed');
      }
    }
  }

  health(): { status: 'ok' | 'degraded'; components: Record<string, ComponentHealth> } {
    const components: Record<string, ComponentHealth> = {};
    for (const c of this.components) {
      components[c.name] = this.started.includes(c) ? (c.health?.() ?? 'ok') : 'stopped';
    }
    const status = Object.values(components).every((h) => h === 'ok') ? 'ok' : 'degraded';
    return { status, components };
  }
}
