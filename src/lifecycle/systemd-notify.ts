import { spawn } from 'node:child_process';
import type { Logger } from '../log.js';

export type NotifySender = (assignments: string[]) => Promise<void>;

/**
 * Sends a state to systemd through its own `systemd-notify` (Node has no unix datagram sockets).
 * The unit needs `NotifyAccess=all` because the sender is our child. Without `--no-block`,
 * systemd-notify waits until the manager has processed the message, so the sender cannot vanish
 * before systemd has attributed it to our unit.
 */
export function systemdNotifySender(env: NodeJS.ProcessEnv = process.env): NotifySender {
  return (assignments) =>
    new Promise((resolve, reject) => {
      const child = spawn('systemd-notify', assignments, {
        env: { NOTIFY_SOCKET: env.NOTIFY_SOCKET ?? '', PATH: env.PATH ?? '/usr/bin:/bin' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      child.on('error', reject);
      child.on('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`systemd-notify exited ${code}: ${stderr.trim()}`)),
      );
    });
}

export interface SystemdOptions {
  env: NodeJS.ProcessEnv;
  log: Logger;
  send?: NotifySender;
  pid?: number;
}

/** READY / STOPPING / STATUS and the watchdog keep-alive, when running under systemd. */
export class SystemdNotifier {
  private readonly enabled: boolean;
  private readonly send: NotifySender;
  private readonly log: Logger;
  private watchdogTimer: NodeJS.Timeout | undefined;
  private pingInFlight = false;
  readonly watchdogIntervalMs: number | undefined;
  private readonly watchdogUsec: number;

  constructor(options: SystemdOptions) {
    this.log = options.log;
    this.enabled = Boolean(options.env.NOTIFY_SOCKET);
    this.send = options.send ?? systemdNotifySender(options.env);
    const usec = Number(options.env.WATCHDOG_USEC);
    this.watchdogUsec = Math.max(usec || 0, 0);
    const forPid = options.env.WATCHDOG_PID;
    const ours = forPid === undefined || Number(forPid) === (options.pid ?? process.pid);
    this.watchdogIntervalMs =
      this.enabled && ours && usec > 0 ? Math.max(1, Math.floor(usec / 2000)) : undefined;
  }

  async notify(...assignments: string[]): Promise<void> {
    if (!this.enabled) return;
    try {
      await this.send(assignments);
    } catch (err) {
      this.log.warn({ err, assignments }, 'systemd notification failed');
    }
  }

  /**
   * Pings at half of WATCHDOG_USEC from a timer on the event loop: a blocked loop sends nothing,
   * so systemd restarts us. `healthy` can veto a ping.
   */
  startWatchdog(healthy: () => boolean = () => true): void {
    if (this.watchdogIntervalMs === undefined || this.watchdogTimer) return;
    this.watchdogTimer = setInterval(() => {
      if (this.pingInFlight || !healthy()) return;
      this.pingInFlight = true;
      void this.notify('WATCHDOG=1').finally(() => {
        this.pingInFlight = false;
      });
    }, this.watchdogIntervalMs);
  }

  /**
   * Lengthens the watchdog's limit while a long job may starve the machine (RAUC writing a slot
   * can hold back even the ping's own process past 30 s on a loaded terminal); `undefined` puts
   * the unit's limit back. The event loop still pings at the old pace.
   */
  async extendWatchdog(ms: number | undefined): Promise<void> {
    if (this.watchdogIntervalMs === undefined) return;
    const usec = ms === undefined ? this.watchdogUsec : Math.max(this.watchdogUsec, ms * 1000);
    await this.notify(`WATCHDOG_USEC=${usec}`, 'WATCHDOG=1');
  }

  stopWatchdog(): void {
    if (this.watchdogTimer) clearInterval(this.watchdogTimer);
    this.watchdogTimer = undefined;
  }
}
