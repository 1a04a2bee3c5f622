#!/usr/bin/env node
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CloudService } from './cloud-service.js';
import { openPgCloud } from './pg/open-pg-cloud.js';

const USAGE = `usage: node dist/cloud/cli.js <command> [options]

  keygen      --out FILE                    write an Ed25519 signing key; print its public key (for cloud.publicKey)
  serve       --broker URL --db FILE|postgres://… --key FILE [--group NAME] [--mqtt 4|5]
  serve       --amqp URL [--amqp URL…] --db postgres://… --key FILE   (a RabbitMQ cluster's nodes)
  push-config --broker URL --db FILE --key FILE --tenant T --device D --version N --doc JSON|@FILE
  push-order  --broker URL --db FILE --key FILE --tenant T --device D --order JSON|@FILE
  push-cmd    --broker URL --db FILE --key FILE --tenant T --device D --name NAME [--args JSON]

  --mqtt 4|5  MQTT version; default: 5, and 3.1.1 when the broker refuses 5 (the demo's embedded
              broker speaks 3.1.1 only; shared subscriptions need 5)
  --db        a SQLite file (the demo's embedded default) or postgres://user@host:port/db; on
              PostgreSQL any number of instances serve at once
  --amqp URL  uplinks from the replicated queue of a RabbitMQ cluster, downlinks through amq.topic
              (repeat for each node; on failure the next is used); needs --db postgres://…;
              push-config, push-order and push-cmd take it in place of --broker too
  --help      this text

against \`posd demo\` (broker mqtt://127.0.0.1:1883, key ~/.local/state/posd-demo/demo-cloud-key.pem,
tenant demo, device D1; --db any new file):
  node dist/cloud/cli.js push-order --broker mqtt://127.0.0.1:1883 --db /tmp/cloud.db \\
    --key ~/.local/state/posd-demo/demo-cloud-key.pem --tenant demo --device D1 \\
    --order '{"id":"web-1","source":"meituan","placedAt":"2026-01-01T12:00:00Z","lines":[{"name":"拿铁咖啡","qty":1,"unitPrice":2800}],"total":2800,"currency":"CNY"}'`;

function json(value: string | undefined, what: string): Record<string, unknown> {
  if (value === undefined) throw new Error(`--${what} is required`);
  const text = value.startsWith('@') ? readFileSync(value.slice(1), 'utf8') : value;
  const parsed = JSON.parse(text) as unknown;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new Error(`--${what} must be a JSON object`);
  return parsed as Record<string, unknown>;
}

function need(values: Record<string, unknown>, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new Error(`--${name} is required`);
  return v;
}

function usageError(message: string): never {
  process.stderr.write(`cloud: ${message}\n${USAGE}\n`);
  process.exit(64);
}

const STRING_OPTIONS = [
  'out',
  'broker',
  'db',
  'key',
  'group',
  'mqtt',
  'tenant',
  'device',
  'version',
  'doc',
  'order',
  'name',
  'args',
];

/** Options given once or several times (the nodes of a cluster). */
const MULTIPLE_OPTIONS = ['amqp'];

type Values = { [name: string]: string | boolean | undefined; help?: boolean };

function parse(): { positionals: string[]; values: Values } {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        ...Object.fromEntries(STRING_OPTIONS.map((o) => [o, { type: 'string' as const }])),
        ...Object.fromEntries(MULTIPLE_OPTIONS.map((o) => [o, { type: 'string' as const, multiple: true }])),
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    usageError(err instanceof Error ? err.message : String(err));
  }
}

async function main(): Promise<void> {
  const parsed = parse();
  const { positionals } = parsed;
  const values = parsed.values as Record<string, string | undefined> & { help?: boolean; amqp?: string[] };
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const command = positionals[0];
  if (command === 'keygen') {
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(need(values, 'out'), privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), {
      mode: 0o600,
    });
    process.stdout.write(createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString());
    return;
  }
  if (!['serve', 'push-config', 'push-order', 'push-cmd'].includes(command ?? '')) {
    usageError(command ? `unknown command "${command}"` : 'a command is required');
  }
  if (values.mqtt !== undefined && values.mqtt !== '4' && values.mqtt !== '5')
    usageError('--mqtt takes 4 or 5');
  const log = (msg: string, extra?: Record<string, unknown>) =>
    process.stderr.write(`${msg} ${JSON.stringify(extra ?? {})}\n`);
  const db = need(values, 'db');
  if (values.amqp && !db.startsWith('postgres')) usageError('--amqp needs --db postgres://…');
  const signingKey = createPrivateKey(readFileSync(need(values, 'key'), 'utf8'));
  const cloud = db.startsWith('postgres')
    ? openPgCloud({
        db,
        signingKey,
        ingest: command === 'serve',
        log,
        ...(values.amqp ? { amqp: values.amqp } : { broker: need(values, 'broker') }),
        ...(values.group ? { group: values.group } : {}),
      })
    : new CloudService({
        brokerUrl: need(values, 'broker'),
        dbFile: db,
        signingKey,
        ingest: command === 'serve',
        ...(values.group ? { group: values.group } : {}),
        ...(values.mqtt === '4' ? { protocolVersion: 4 as const, shared: false } : {}),
        ...(values.mqtt === '5' ? { protocolVersion: 5 as const } : {}),
        log,
      });
  await cloud.start();
  if (command === 'serve') {
    process.stderr.write('cloud serving; Ctrl-C to stop\n');
    const stop = () => void cloud.stop().then(() => process.exit(0));
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    return;
  }
  const tenant = need(values, 'tenant');
  const device = need(values, 'device');
  if (command === 'push-config') {
    await cloud.pushConfig(tenant, device, Number(need(values, 'version')), json(values.doc, 'doc'));
    process.stdout.write('config pushed\n');
  } else if (command === 'push-order') {
    const order = json(values.order, 'order') as { id: string } & Record<string, unknown>;
    process.stdout.write(`order pushed with downSeq ${await cloud.pushOrder(tenant, device, order)}\n`);
  } else {
    const answer = await cloud.pushCommand(
      tenant,
      device,
      need(values, 'name'),
      values.args ? json(values.args, 'args') : {},
    );
    process.stdout.write(`${JSON.stringify(answer ?? { timeout: true })}\n`);
  }
  await cloud.stop();
}

main().catch((err: unknown) => {
  process.stderr.write(`cloud: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
