import { execFile, execFileSync } from 'node:child_process';
import { chownSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort, tempDir } from './daemon.js';

const run = promisify(execFile);
const BIN = '/usr/lib/postgresql/15/bin';

export interface PostgresOptions {
  /** false (the default) for tests: a crash of the machine is not what they test. */
  fsync?: boolean;
  database?: string;
}

/**
 * A throwaway PostgreSQL 15 in a temp folder: initdb, a free port on 127.0.0.1, its socket in the
 * folder, trust authentication. PostgreSQL refuses to run as root: as root it runs as `postgres`.
 * stop() removes everything.
 */
export class Postgres {
  readonly dir = tempDir('posd-pg-');
  port = 0;
  /** How long start() took (initdb, start, create database), for reports. */
  startMs = 0;
  private readonly asRoot = process.getuid?.() === 0;

  constructor(private readonly options: PostgresOptions = {}) {}

  get database(): string {
    return this.options.database ?? 'posd';
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${this.database}`;
  }

  private async pgRun(bin: string, args: string[]): Promise<string> {
    const [file, argv] = this.asRoot
      ? ['runuser', ['-u', 'postgres', '--', join(BIN, bin), ...args]]
      : [join(BIN, bin), args];
    const { stdout } = await run(file, argv, { cwd: this.dir, maxBuffer: 4 << 20 });
    return stdout;
  }

  async start(): Promise<void> {
    const began = Date.now();
    if (this.asRoot) {
      const { stdout } = await run('id', ['-u', 'postgres']);
      const uid = Number(stdout.trim());
      const { stdout: gidOut } = await run('id', ['-g', 'postgres']);
      chownSync(this.dir, uid, Number(gidOut.trim()));
    }
    const data = join(this.dir, 'data');
    await this.pgRun('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
    this.port = await freePort();
    const opts = [
      `-p ${this.port}`,
      `-k ${this.dir}`,
      "-c listen_addresses='127.0.0.1'",
      `-c fsync=${this.options.fsync ? 'on' : 'off'}`,
      `-c synchronous_commit=${this.options.fsync ? 'on' : 'off'}`,
      '-c full_page_writes=off',
      '-c max_connections=200',
    ].join(' ');
    await this.pgRun('pg_ctl', [
      '-D',
      data,
      '-l',
      join(this.dir, 'log'),
      '-o',
      opts,
      '-w',
      '-t',
      '60',
      'start',
    ]);
    const admin = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${this.port}/postgres` });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${this.database}`);
    } finally {
      await admin.end();
    }
    this.startMs = Date.now() - began;
  }

  /** The same, synchronously (from a process 'exit' handler). */
  stopNow(): void {
    if (this.port !== 0) {
      const ctl = [join(BIN, 'pg_ctl'), '-D', join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop'];
      try {
        if (this.asRoot) execFileSync('runuser', ['-u', 'postgres', '--', ...ctl], { stdio: 'ignore' });
        else execFileSync(ctl[0]!, ctl.slice(1), { stdio: 'ignore' });
      } catch {
        // already stopped
      }
      this.port = 0;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Stops the server at once (no checkpoint) and removes its folder. */
  async stop(): Promise<void> {
    if (this.port !== 0) {
      await this.pgRun('pg_ctl', ['-D', join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop']).catch(
        () => '',
      );
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
