import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort, tempDir } from './daemon.js';
import { waitFor } from './wait.js';

/**
 * Throwaway RabbitMQ (Debian 12's 3.10) nodes and clusters in temp folders, for tests and benches.
 *
 * Each node is a real `rabbitmq-server` with its own node name, data, log, config, free ports
 * (AMQP, MQTT, Erlang distribution) and the MQTT plugin, sessions on quorum queues. A cluster has
 * its own epmd on a free port and one Erlang cookie. Nodes 2..N join node 1 with
 * `rabbitmqctl join_cluster`. Every wait polls for an event (a command answering, a CONNACK).
 */

const BIN = '/usr/lib/rabbitmq/bin';
const EPMD = '/usr/bin/epmd';
/** Generous: two cores shared by several engineers, and each rabbitmqctl call boots an Erlang VM. */
const START_TIMEOUT_MS = 180_000;
const CTL_TIMEOUT_MS = 120_000;

export interface RabbitOptions {
  /** Number of nodes (1 by default). */
  nodes?: number;
  /** Extra `rabbitmq.conf` lines, for every node. */
  config?: string[];
  /** Timeout for each wait while starting (default 180 s). */
  startTimeoutMs?: number;
}

/** Everything running, to kill if the test process ends without stop(). */
const live = new Set<number>();
process.once('exit', () => {
  for (const pid of live) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

function run(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = CTL_TIMEOUT_MS,
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')}: ${err.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

function tcpOpen(port: number): Promise<true | undefined> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(undefined));
  });
}

/** An MQTT 3.1.1 CONNECT, clean session: resolves true on CONNACK 0 (the node serves MQTT). */
function mqttConnack(port: number, timeoutMs: number): Promise<true | undefined> {
  return new Promise((resolve) => {
    const id = Buffer.from(`probe-${randomBytes(4).toString('hex')}`);
    const body = Buffer.concat([
      Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, 0, 30, 0, id.length]),
      id,
    ]);
    const s = connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => done(undefined), timeoutMs);
    const done = (v: true | undefined) => {
      clearTimeout(timer);
      s.destroy();
      resolve(v);
    };
    s.once('connect', () => s.write(Buffer.concat([Buffer.from([0x10, body.length]), body])));
    s.on('data', (d: Buffer) => done(d[0] === 0x20 && d[3] === 0 ? true : undefined));
    s.once('error', () => done(undefined));
    s.once('close', () => done(undefined));
  });
}

/** Names registered with the epmd on `port` (its NAMES_REQ): a VM registers once distribution is up. */
function epmdNames(port: number): Promise<string[]> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    let data = Buffer.alloc(0);
    s.once('connect', () => s.write(Buffer.from([0, 1, 110])));
    s.on('data', (d: Buffer) => {
      data = Buffer.concat([data, d]);
    });
    s.once('close', () => {
      const text = data.subarray(4).toString();
      resolve([...text.matchAll(/^name (\S+) at port/gm)].map((m) => m[1] ?? ''));
    });
    s.once('error', () => resolve([]));
  });
}

export class RabbitNode {
  readonly dir: string;
  readonly nodename: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  /** OS pid of the node's beam.smp (the Erlang VM itself, not a shell wrapper). */
  pid = 0;
  output = '';

  constructor(
    private readonly cluster: RabbitCluster,
    readonly index: number,
    readonly amqpPort: number,
    readonly mqttPort: number,
    readonly distPort: number,
    config: string[],
  ) {
    this.nodename = `posdtest-${cluster.id}-${index}@localhost`;
    this.dir = join(cluster.dir, `node${index}`);
    mkdirSync(join(this.dir, 'mnesia'), { recursive: true });
    mkdirSync(join(this.dir, 'log'), { recursive: true });
    writeFileSync(join(this.dir, 'enabled_plugins'), '[rabbitmq_mqtt].\n');
    writeFileSync(
      join(this.dir, 'rabbitmq.conf'),
      `${[
        `listeners.tcp.default = 127.0.0.1:${amqpPort}`,
        `mqtt.listeners.tcp.default = 127.0.0.1:${mqttPort}`,
        // Device sessions (clean session false) on replicated queues: they survive a node's death.
        'mqtt.durable_queue_type = quorum',
        'mqtt.allow_anonymous = true',
        'mqtt.default_user = guest',
        'mqtt.default_pass = guest',
        'loopback_users = none',
        'log.console = false',
        'log.file.level = info',
        ...config,
      ].join('\n')}\n`,
    );
    // An empty env file so /etc/rabbitmq/rabbitmq-env.conf is not read.
    writeFileSync(join(this.dir, 'rabbitmq-env.conf'), '');
  }

  get mqttUrl(): string {
    return `mqtt://127.0.0.1:${this.mqttPort}`;
  }

  get amqpUrl(): string {
    return `amqp://guest:guest@127.0.0.1:${this.amqpPort}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The node's own log file. */
  log(): string {
    try {
      return readFileSync(join(this.dir, 'log', `${this.nodename}.log`), 'utf8');
    } catch {
      return '';
    }
  }

  private env(): NodeJS.ProcessEnv {
    return {
      ...this.cluster.env(),
      RABBITMQ_NODENAME: this.nodename,
      RABBITMQ_MNESIA_BASE: join(this.dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(this.dir, 'log'),
      RABBITMQ_CONFIG_FILE: join(this.dir, 'rabbitmq.conf'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(this.dir, 'enabled_plugins'),
      RABBITMQ_CONF_ENV_FILE: join(this.dir, 'rabbitmq-env.conf'),
      RABBITMQ_PID_FILE: join(this.dir, 'pid'),
      RABBITMQ_NODE_PORT: String(this.amqpPort),
      RABBITMQ_DIST_PORT: String(this.distPort),
      // The script then execs the VM instead of waiting on it: the spawned pid is beam.smp.
      RUNNING_UNDER_SYSTEMD: 'true',
      // Idle schedulers sleep instead of spinning: the machine is shared.
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '+sbwt none +sbwtdcpu none +sbwtdio none -start_epmd false',
    };
  }

  /** Starts the VM and waits until the broker answers `await_startup`. */
  async start(timeoutMs = START_TIMEOUT_MS): Promise<void> {
    if (this.running) return;
    const child = spawn(`${BIN}/rabbitmq-server`, [], {
      env: this.env(),
      cwd: this.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.output = '';
    child.stdout?.on('data', (c: Buffer) => {
      this.output += c.toString();
    });
    child.stderr?.on('data', (c: Buffer) => {
      this.output += c.toString();
    });
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    if (child.pid) {
      this.pid = child.pid;
      live.add(child.pid);
    }
    try {
      const short = this.nodename.split('@')[0] ?? '';
      await waitFor(
        async () => {
          if (child.exitCode !== null || child.signalCode !== null) throw new Error('exited');
          return (await epmdNames(this.cluster.epmdPort)).includes(short) ? true : undefined;
        },
        `${this.nodename} registered with epmd`,
        timeoutMs,
        100,
      );
      await this.ctl(['await_startup', '--timeout', String(Math.ceil(timeoutMs / 1000))], timeoutMs + 30_000);
    } catch (err) {
      throw new Error(
        `${this.nodename} did not start: ${String(err)}\n${this.output}\n${this.log().slice(-4000)}`,
      );
    }
    const pidFile = Number(readFileSync(join(this.dir, 'pid'), 'utf8').trim());
    if (pidFile && pidFile !== this.pid) {
      // Not expected (the wrapper execs the VM), but kill() must hit the real VM.
      this.pid = pidFile;
      live.add(pidFile);
    }
  }

  /** Waits until the node completes an MQTT 3.1.1 CONNECT (its plugin and client-id tracking are up). */
  async waitMqtt(timeoutMs = START_TIMEOUT_MS): Promise<void> {
    await waitFor(() => tcpOpen(this.mqttPort), `${this.nodename} MQTT listener`, timeoutMs, 100);
    await waitFor(() => mqttConnack(this.mqttPort, 10_000), `${this.nodename} MQTT CONNACK`, timeoutMs, 200);
  }

  /** `rabbitmqctl -n <this node> ...args`; resolves with stdout. */
  ctl(args: string[], timeoutMs = CTL_TIMEOUT_MS): Promise<string> {
    return run(`${BIN}/rabbitmqctl`, ['-n', this.nodename, ...args], this.cluster.env(), timeoutMs);
  }

  /** SIGKILL the Erlang VM (a node dying, not shutting down); resolves once it has exited. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    for (const pid of new Set([child.pid, this.pid])) {
      if (!pid) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
      live.delete(pid);
    }
    await this.exited;
    this.child = undefined;
  }

  /** Starts a killed node again with its data: it rejoins its cluster. */
  async restart(timeoutMs = START_TIMEOUT_MS): Promise<void> {
    await this.kill();
    await this.start(timeoutMs);
    await this.cluster.waitClustered(timeoutMs);
    await this.waitMqtt(timeoutMs);
  }
}

interface ClusterStatus {
  running_nodes?: string[];
  disk_nodes?: string[];
}

export class RabbitCluster {
  readonly id = randomBytes(3).toString('hex');
  readonly dir = tempDir('posd-rabbitmq-');
  readonly nodes: RabbitNode[] = [];
  epmdPort = 0;
  private epmd: ChildProcess | undefined;
  private readonly home = join(this.dir, 'home');

  env(): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      LANG: 'C.UTF-8',
      LC_ALL: 'C.UTF-8',
      HOME: this.home,
      ERL_EPMD_PORT: String(this.epmdPort),
      // Never a stray `epmd -daemon` outliving the test: ours runs before any VM and stop() ends it.
      RABBITMQ_CTL_ERL_ARGS: '-start_epmd false',
      // A VM that dies writes its dump here, not into the checkout (the caller's working directory).
      ERL_CRASH_DUMP: join(this.home, 'erl_crash.dump'),
    };
  }

  /** Node names the first node sees running, per `cluster_status`. */
  async runningNodes(via = this.nodes.find((n) => n.running)): Promise<string[]> {
    if (!via) return [];
    const out = await via.ctl(['cluster_status', '--formatter', 'json']);
    const status = JSON.parse(out) as ClusterStatus;
    return status.running_nodes ?? [];
  }

  /** Waits until every running node is in the cluster's running set. */
  async waitClustered(timeoutMs = START_TIMEOUT_MS): Promise<void> {
    const want = this.nodes.filter((n) => n.running).map((n) => n.nodename);
    await waitFor(
      async () => {
        const running = await this.runningNodes();
        return want.every((n) => running.includes(n)) ? true : undefined;
      },
      `cluster of ${want.join(', ')}`,
      timeoutMs,
      500,
    );
  }

  async start(options: RabbitOptions): Promise<void> {
    const size = options.nodes ?? 1;
    const timeoutMs = options.startTimeoutMs ?? START_TIMEOUT_MS;
    mkdirSync(this.home, { recursive: true });
    const cookie = join(this.home, '.erlang.cookie');
    writeFileSync(cookie, randomBytes(20).toString('hex').toUpperCase());
    chmodSync(cookie, 0o400);
    this.epmdPort = await freePort();
    // Our own epmd: clusters of parallel tests never see each other, and stop() ends it.
    const epmd = spawn(EPMD, ['-port', String(this.epmdPort), '-address', '127.0.0.1'], {
      stdio: 'ignore',
    });
    this.epmd = epmd;
    if (epmd.pid) live.add(epmd.pid);
    await waitFor(() => tcpOpen(this.epmdPort), `epmd on ${this.epmdPort}`, timeoutMs, 50);
    const ports = new Set<number>([this.epmdPort]);
    const port = async (): Promise<number> => {
      for (;;) {
        const p = await freePort();
        if (!ports.has(p)) {
          ports.add(p);
          return p;
        }
      }
    };
    for (let i = 1; i <= size; i++) {
      this.nodes.push(
        new RabbitNode(this, i, await port(), await port(), await port(), options.config ?? []),
      );
    }
    // Settled, not all: a failure must not leave another node's start (and its CLI calls) running past stop().
    const started = await Promise.allSettled(this.nodes.map((n) => n.start(timeoutMs)));
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    const [first, ...rest] = this.nodes;
    for (const node of rest) {
      await node.ctl(['stop_app']);
      await node.ctl(['reset']);
      await node.ctl(['join_cluster', first?.nodename ?? '']);
      await node.ctl(['start_app']);
      await node.ctl(['await_startup', '--timeout', String(Math.ceil(timeoutMs / 1000))], timeoutMs + 30_000);
    }
    await this.waitClustered(timeoutMs);
    await Promise.all(this.nodes.map((n) => n.waitMqtt(timeoutMs)));
  }

  /** Kills every node and epmd, removes the temp folder. */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill()));
    const epmd = this.epmd;
    this.epmd = undefined;
    if (epmd && epmd.exitCode === null && epmd.signalCode === null) {
      const exited = new Promise<void>((resolve) => epmd.once('exit', () => resolve()));
      epmd.kill('SIGKILL');
      await exited;
    }
    if (epmd?.pid) live.delete(epmd.pid);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Starts a throwaway RabbitMQ of `options.nodes` nodes (1 by default), clustered, MQTT ready. */
export async function startRabbitMq(options: RabbitOptions = {}): Promise<RabbitCluster> {
  const cluster = new RabbitCluster();
  try {
    await cluster.start(options);
  } catch (err) {
    await cluster.stop().catch(() => undefined);
    throw err;
  }
  return cluster;
}
