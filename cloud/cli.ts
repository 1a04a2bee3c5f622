#!/usr/bin/env node
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CloudService } from './cloud-service.js';

const USAGE = `usage: node dist/cloud/cli.js <command> [options]

  keygen      --out FILE                    write an Ed25519 signing key; print its public key (for cloud.publicKey)
  serve       --broker URL --db FILE --key FILE [--group NAME] [--mqtt 4|5]
  push-config --broker URL --db FILE --key FILE --tenant T --device D --version N --doc JSON|@FILE
  push-order  --broker URL --db FILE --key FILE --tenant T --device D --order JSON|@FILE
  push-cmd    --broker URL --db FILE --key FILE --tenant T --device D --name NAME [--args JSON]`;

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

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: Object.fromEntries(
      [
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
      ].map((o) => [o, { type: 'string' as const }]),
    ),
  });
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
    process.stderr.write(`${USAGE}\n`);
    process.exit(64);
  }
  const cloud = new CloudService({
    brokerUrl: need(values, 'broker'),
    dbFile: need(values, 'db'),
    signingKey: createPrivateKey(readFileSync(need(values, 'key'), 'utf8')),
    ingest: command === 'serve',
    ...(values.group ? { group: values.group } : {}),
    ...(values.mqtt === '4' ? { protocolVersion: 4 as const, shared: false } : {}),
    log: (msg, extra) => process.stderr.write(`${msg} ${JSON.stringify(extra ?? {})}\n`),
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
