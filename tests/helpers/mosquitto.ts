import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort, tempDir } from './daemon.js';
import { waitFor } from './wait.js';

export interface MosquittoOptions {
  port?: number;
  tls?: { cafile: string; certfile: string; keyfile: string; requireCertificate: boolean };
}

/** A real mosquitto on 127.0.0.1, with its own config; stop() and start() keep the port. */
export class Mosquitto {
  private child: ChildProcess | undefined;
  readonly dir = tempDir('posd-mosquitto-');
  port = 0;
  log = '';

  constructor(private readonly options: MosquittoOptions = {}) {}

  get url(): string {
    return `${this.options.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.port === 0) this.port = this.options.port ?? (await freePort());
    const tls = this.options.tls;
    const lines = [
      `listener ${this.port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      'max_inflight_messages 0',
      'max_queued_messages 100000',
      // Run as root, mosquitto would switch to its own user and could not read the test's key files.
      ...(process.getuid?.() === 0 ? ['user root'] : []),
      ...(tls
        ? [
            `cafile ${tls.cafile}`,
            `certfile ${tls.certfile}`,
            `keyfile ${tls.keyfile}`,
            `require_certificate ${tls.requireCertificate}`,
            'use_identity_as_username false',
          ]
        : []),
    ];
    const conf = join(this.dir, 'mosquitto.conf');
    writeFileSync(conf, `${lines.join('\n')}\n`);
    const child = spawn('/usr/sbin/mosquitto', ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (c: Buffer) => {
      this.log += c.toString();
    });
    child.stderr?.on('data', (c: Buffer) => {
      this.log += c.toString();
    });
    this.child = child;
    await waitFor(
      () =>
        new Promise<true | undefined>((resolve) => {
          const s = connect({ host: '127.0.0.1', port: this.port });
          s.once('connect', () => {
            s.destroy();
            resolve(true);
          });
          s.once('error', () => resolve(undefined));
        }),
      `mosquitto on ${this.port}\n${this.log}`,
      10_000,
      50,
    );
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }
}
