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

  constructor(options: SystemdOptions) {
    this.log = options.log;
    this.enabled = Boolean(options.env.NOTIFY_SOCKET);
    this.send = options.send ?? systemdNotifySender(options.env);
    const usec = Number(options.env.WATCHDOG_USEC);
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

  stopWatchdog(): void {
    if (this.watchdogTimer) clearInterval(this.watchdogTimer);
    this.watchdogTimer = undefined;
  }
}
