#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { App } from './app.js';
import { ConfigError, DEFAULT_CONFIG_FILE, type LoadedConfig, loadConfig } from './config/load.js';
import type { DemoInfrastructure } from './demo.js';
import { describeError, isPosError } from './errors.js';
import { ExitCode } from './lifecycle/exit-codes.js';
import { SystemdNotifier } from './lifecycle/systemd-notify.js';
import { createRootLogger, type Logger, type LogLevel } from './log.js';
import { DEMO_CASHIER } from './ui-bridge/cashiers.js';
import { APP_VERSION } from './version.js';

const USAGE = `usage: posd <command> [--config FILE]

commands:
  run          the daemon (config ${DEFAULT_CONFIG_FILE} unless --config)
  demo         simulated devices, local broker and reference cloud, UI on http://127.0.0.1:8080
               (--orders-every SECONDS: an online order from the demo cloud that often; 0 = none)
  doctor       check config, devices, clock, broker, ledger; exit 0 only if all is well
  print-test   print a test page (--png FILE: also write it as the paper shows it)

options:
  --config FILE   config file (JSON); every key can also be set as POSD_* in the environment
  --version       print the version
  --help          this text`;

const SHUTDOWN_DEADLINE_MS = 4_500;

/** The demo's embedded defaults: everything simulated, state under the user's home. */
function demoBase(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const stateHome = env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return {
    device: { tenant: 'demo', id: 'D1' },
    stateDir: join(stateHome, 'posd-demo'),
    printer: { uri: 'sim:' },
    scanner: { uri: 'sim:' },
    display: { uri: 'sim:' },
  };
}

function loadOrExit(command: string, file: string | undefined, env: NodeJS.ProcessEnv): LoadedConfig {
  try {
    return command === 'demo'
      ? loadConfig({ base: demoBase(env), file, env })
      : loadConfig({ file: file ?? DEFAULT_CONFIG_FILE, env });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`posd: bad config${file ? ` (${file})` : ''}:\n`);
      for (const problem of err.problems) process.stderr.write(`${problem}\n`);
      process.exit(ExitCode.CONFIG);
    }
    throw err;
  }
}

const STORAGE_CODES = ['STATE_DIR_UNUSABLE', 'STORAGE_READ_ONLY', 'STORAGE_FULL', 'STORAGE_FAILED'] as const;

function startFailureExitCode(err: unknown): number {
  if (isPosError(err, 'STATE_LOCKED')) return ExitCode.TEMP_FAIL;
  if (isPosError(err) && (STORAGE_CODES as readonly string[]).includes(err.code)) return ExitCode.CANT_CREATE;
  if (isPosError(err, 'DB_NEWER_THAN_CODE')) return ExitCode.CONFIG;
  return ExitCode.SOFTWARE;
}

/** The demo's greeting: the URL a person can open (the port really bound) and the PIN. */
function greetDemo(app: App, config: LoadedConfig['config'], demo: DemoInfrastructure | undefined): void {
  const host = config.ui.host === '0.0.0.0' || config.ui.host === '::' ? '127.0.0.1' : config.ui.host;
  const port = app.http.address?.port ?? config.ui.port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const pin = existsSync(join(config.stateDir, 'cashiers.json')) ? undefined : DEMO_CASHIER.pin;
  if (demo) process.stdout.write(demo.greeting({ url, pin }));
  else
    process.stdout.write(
      `\nposd demo is ready: open ${url}/ , ${pin ? `PIN ${pin}` : 'PIN: see cashiers.json'}\n\n`,
    );
}

async function runDaemon(
  mode: 'run' | 'demo',
  loaded: LoadedConfig,
  log: Logger,
  demoOptions: { orderEverySeconds?: number } = {},
): Promise<never> {
  for (const warning of loaded.warnings) log.warn(warning);
  const systemd = new SystemdNotifier({ env: process.env, log });
  let demo: DemoInfrastructure | undefined;
  if (mode === 'demo' && !loaded.config.mqtt.url) {
    const { startDemoInfrastructure } = await import('./demo.js');
    const { config } = loaded;
    demo = await startDemoInfrastructure(
      config.stateDir,
      log,
      config.device.tenant,
      config.device.id,
      demoOptions,
    );
    config.mqtt.url = demo.mqttUrl;
    config.mqtt.reconnectMaxMs = 2_000;
    config.cloud.publicKey = demo.cloudPublicKeyPem;
  }
  const app = new App({ config: loaded.config, log, mode, watchdog: systemd });

  let stopping = false;
  const shutdown = async (signal: string): Promise<never> => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(ExitCode.FAILURE);
    }
    stopping = true;
    log.info({ signal }, 'shutting down');
    systemd.stopWatchdog();
    const deadline = setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(ExitCode.FAILURE);
    }, SHUTDOWN_DEADLINE_MS);
    await systemd.notify('STOPPING=1');
    await app.stop();
    await demo?.stop();
    clearTimeout(deadline);
    process.exit(ExitCode.OK);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  try {
    await app.start();
  } catch (err) {
    log.fatal({ code: isPosError(err) ? err.code : undefined, err: describeError(err) }, 'cannot start');
    process.stderr.write(`posd: ${describeError(err)}\n`);
    process.exit(startFailureExitCode(err));
  }
  await systemd.notify('READY=1', `STATUS=${mode === 'demo' ? 'demo' : 'running'}`);
  app.ready();
  if (mode === 'demo') greetDemo(app, loaded.config, demo);
  systemd.startWatchdog();
  return new Promise<never>(() => {});
}

async function main(argv: string[]): Promise<void> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string' },
        png: { type: 'string' },
        'orders-every': { type: 'string' },
        help: { type: 'boolean' },
        version: { type: 'boolean' },
      },
    });
  } catch (err) {
    process.stderr.write(`posd: ${describeError(err)}\n${USAGE}\n`);
    process.exit(ExitCode.USAGE);
  }
  if (parsed.values.version) {
    process.stdout.write(`${APP_VERSION}\n`);
    return;
  }
  const [command, ...extra] = parsed.positionals;
  if (parsed.values.help || command === undefined) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(parsed.values.help ? ExitCode.OK : ExitCode.USAGE);
  }
  if (extra.length > 0) {
    process.stderr.write(`posd: unexpected argument ${extra[0]}\n${USAGE}\n`);
    process.exit(ExitCode.USAGE);
  }
  const configFile = parsed.values.config as string | undefined;

  switch (command) {
    case 'run':
    case 'demo': {
      const every = parsed.values['orders-every'] as string | undefined;
      if (every !== undefined && (command !== 'demo' || !/^\d+$/.test(every))) {
        process.stderr.write(`posd: --orders-every takes whole seconds, with demo only\n${USAGE}\n`);
        process.exit(ExitCode.USAGE);
      }
      const loaded = loadOrExit(command, configFile, process.env);
      const log = createRootLogger(loaded.config.log.level as LogLevel);
      await runDaemon(command, loaded, log, every === undefined ? {} : { orderEverySeconds: Number(every) });
      return;
    }
    case 'doctor': {
      const loaded = loadOrExit(command, configFile, process.env);
      const { runDoctor } = await import('./doctor.js');
      process.exit(await runDoctor(loaded, process.stdout));
      return;
    }
    case 'print-test': {
      const loaded = loadOrExit(command, configFile, process.env);
      const { runPrintTest } = await import('./print-test.js');
      const png = parsed.values.png as string | undefined;
      process.exit(await runPrintTest(loaded.config, process.stdout, png ? { png } : {}));
      return;
    }
    default:
      process.stderr.write(`posd: unknown command "${command}"\n${USAGE}\n`);
      process.exit(ExitCode.USAGE);
  }
}

process.on('uncaughtException', (err) => {
  process.stderr.write(`posd: fatal: ${err.stack ?? err.message}\n`);
  process.exit(ExitCode.SOFTWARE);
});
process.on('unhandledRejection', (reason) => {
  process.stderr.write(`posd: fatal: unhandled rejection: ${describeError(reason)}\n`);
  process.exit(ExitCode.SOFTWARE);
});

await main(process.argv.slice(2));
