import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import type { IPublishPacket } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { App } from '../../src/app.js';
import { BusinessConfigSchema } from '../../src/config/business.js';
import { loadConfig } from '../../src/config/load.js';
import { nestedDeeperThan } from '../../src/core/json-depth.js';
import { canonicalJson } from '../../src/offline/chain.js';
import { OnlineOrderSchema } from '../../src/services/order-service.js';
import type { MessageHandler } from '../../src/sync/mqtt-link.js';
import {
  AckPayload,
  CommandPayload,
  ConfigEnvelopePayload,
  NotifyPayload,
  parsePayload,
  ResponsePayload,
} from '../../src/sync/payloads.js';
import { commandSignedFields, configSignedFields } from '../../src/sync/signature.js';
import { freePort, refusedPort, tempDir } from '../helpers/daemon.js';
import { fuzzParams } from './helpers/fuzz-env.js';
import { countingLog } from './helpers/log-counter.js';
import {
  anyJson,
  deepNest,
  documentsFor,
  hostileValue,
  mutatedArb,
  plainSchema,
  prototypesClean,
  validArb,
} from './helpers/schema-arb.js';

/*
 * Every down topic's payload, as the cloud (or anyone able to publish on the device's topics)
 * could send it, delivered to the real daemon's handlers in this process: the App with its SQLite
 * ledger, services and downlink. The broker is left out (the link never connects) so each payload
 * is handled at once and the property runs fast; the MQTT path itself has its integration tests.
 */

let app: App;
let handlers: Map<string, MessageHandler>;
let privateKey: KeyObject;
const log = countingLog(20);
const unhandled: unknown[] = [];
const onUnhandled = (err: unknown) => unhandled.push(err);

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  const keys = generateKeyPairSync('ed25519');
  privateKey = keys.privateKey;
  const dir = tempDir('posd-fuzz-down-');
  const stateDir = join(dir, 'state');
  mkdirSync(stateDir, { recursive: true });
  const { config } = loadConfig({
    base: {
      device: { tenant: 't1', id: 'D1' },
      stateDir,
      ui: { port: await freePort() },
      // A port nothing listens on: the link keeps trying, the handlers are called directly.
      mqtt: {
        url: `mqtt://127.0.0.1:${await refusedPort()}`,
        reconnectMinMs: 60_000,
        reconnectMaxMs: 60_000,
      },
      cloud: { publicKey: keys.publicKey.export({ type: 'spki', format: 'pem' }).toString() },
    },
    env: {},
  });
  app = new App({ config, log: log.log, mode: 'run' });
  await app.start();
  handlers = (app.sync!.link as unknown as { handlers: Map<string, MessageHandler> }).handlers;
});

afterAll(async () => {
  await app?.stop();
  process.off('unhandledRejection', onUnhandled);
});

const turns = async () => {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};
// What a payload causes ends after the ledger's flush (answers and publishes wait for it).
const settle = async () => {
  await turns();
  await app.ledger.durable().catch(() => {});
  await turns();
};

const packet = (topic: string, responseTopic?: string): IPublishPacket =>
  ({
    cmd: 'publish',
    topic,
    qos: 1,
    dup: false,
    retain: false,
    payload: Buffer.alloc(0),
    ...(responseTopic ? { properties: { responseTopic } } : {}),
  }) as IPublishPacket;

function topic(kind: string): string {
  const t = app.sync!.topics as unknown as Record<string, string>;
  return t[`down${kind[0]!.toUpperCase()}${kind.slice(1)}`]!;
}

/** Delivers one payload as the link would; returns the log lines it caused. */
async function deliver(kind: string, body: unknown | Buffer, responseTopic?: string): Promise<number> {
  const t = topic(kind);
  const before = log.count();
  const payload = Buffer.isBuffer(body) ? body : Buffer.from(safeStringify(body));
  handlers.get(t)!(payload, packet(t, responseTopic));
  await settle();
  return log.count() - before;
}

function safeStringify(v: unknown): string {
  try {
    return JSON.stringify(v) ?? 'null';
  } catch {
    return '{}';
  }
}

function signConfig(e: { version: unknown; issuedAt: unknown; doc: unknown }): string {
  return sign(null, Buffer.from(canonicalJson(configSignedFields(e))), privateKey).toString('base64');
}

function signCommand(c: Record<string, unknown>): string {
  return sign(null, Buffer.from(canonicalJson(commandSignedFields(c as never))), privateKey).toString(
    'base64',
  );
}

/** Invariants after every payload: no prototype touched, a bounded number of log lines. */
function checkAfter(lines: number): void {
  expect(prototypesClean()).toBe(true);
  expect(lines).toBeLessThanOrEqual(4);
  expect(unhandled).toEqual([]);
}

const raw = fc.oneof(
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
  fc.string({ maxLength: 200 }).map((s) => Buffer.from(s)),
  fc.constantFrom('', '{', 'null', '[]', '"x"', '1e400', '{"a":1,"a":2}').map((s) => Buffer.from(s)),
  fc.constantFrom('[', '{"a":').map((open) => labelled(`${open}×100000`, deepText(open, 100_000))),
  fc.constant(labelled('1 MiB + 1 of spaces', Buffer.alloc(1024 * 1024 + 1, 0x20))),
);

/** Deep JSON as text: `[[[…]]]` or `{"a":{"a":…}}`. */
function deepText(open: string, depth: number): Buffer {
  return Buffer.from(
    `${open.repeat(depth)}${open === '[' ? '' : '1'}${(open === '[' ? ']' : '}').repeat(depth)}`,
  );
}

/** A big payload that prints as its label in a counterexample. */
function labelled(label: string, b: Buffer): Buffer {
  return Object.assign(b, { [fc.toStringMethod]: () => label });
}

describe('down topics: every payload validated, refused payloads coded, nothing crashes', () => {
  it('the generators make payloads the daemon accepts (so the mutations start from valid ones)', () => {
    const samples = (schema: unknown) => fc.sample(validArb(plainSchema(schema)), { numRuns: 30, seed: 1 });
    for (const [schema, payload] of [
      [AckPayload, AckPayload],
      [ResponsePayload, ResponsePayload],
      [NotifyPayload, NotifyPayload],
      [CommandPayload, CommandPayload],
      [ConfigEnvelopePayload, ConfigEnvelopePayload],
    ] as const) {
      for (const doc of samples(schema))
        expect(parsePayload(payload, Buffer.from(JSON.stringify(doc))).ok).toBe(true);
    }
  });

  it('raw bytes on every down topic: refused, never a throw', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('ack', 'config', 'order', 'cmd', 'resp', 'notify'),
        raw,
        async (kind, body) => {
          checkAfter(await deliver(kind, body));
        },
      ),
      fuzzParams(40),
    );
  });

  it('acks: valid, mutated, hostile, for this epoch or another', async () => {
    const docs = documentsFor(AckPayload);
    await fc.assert(
      fc.asyncProperty(docs, fc.boolean(), async ({ doc }, ours) => {
        if (ours && doc && typeof doc === 'object' && !Array.isArray(doc))
          (doc as Record<string, unknown>).epoch = app.ledger.epoch;
        checkAfter(await deliver('ack', doc));
      }),
      fuzzParams(50),
    );
  });

  it('responses and notifies: valid, mutated, hostile', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          documentsFor(ResponsePayload).map((d) => ['resp', d.doc] as const),
          documentsFor(NotifyPayload).map((d) => ['notify', d.doc] as const),
        ),
        async ([kind, doc]) => {
          checkAfter(await deliver(kind, doc));
        },
      ),
      fuzzParams(50),
    );
  });

  it('orders: valid, mutated and hostile orders are stored only when valid, refused with a reason otherwise', async () => {
    const order = documentsFor(OnlineOrderSchema);
    await fc.assert(
      fc.asyncProperty(order, fc.oneof(fc.nat(), hostileValue), async ({ kind, doc }, downSeq) => {
        const refusedBefore = app.sync!.refusedPayloads.get('order') ?? 0;
        const lines = await deliver('order', { downSeq, order: doc });
        checkAfter(lines);
        const refused = (app.sync!.refusedPayloads.get('order') ?? 0) > refusedBefore;
        if (kind === 'valid' && Number.isSafeInteger(downSeq) && (downSeq as number) >= 0)
          expect(refused).toBe(false);
        if (refused)
          expect(lines).toBeGreaterThan(0); // a refusal is logged, with its reason
        else {
          const id = (doc as { id: string }).id;
          expect(app.orders.get(id).order.id).toBe(id);
        }
      }),
      fuzzParams(50),
    );
  });

  it('config envelopes: signed valid, signed mutated and unsigned docs; only a valid signed doc applies', async () => {
    let version = app.business.version;
    const envelope = fc.tuple(documentsFor(BusinessConfigSchema), fc.boolean(), fc.option(hostileValue));
    await fc.assert(
      fc.asyncProperty(envelope, async ([{ kind, doc }, signed, broken]) => {
        version += 1;
        const e: Record<string, unknown> = { version, issuedAt: new Date().toISOString(), doc };
        e.sig = signed ? signConfig(e as never) : Buffer.alloc(64, 7).toString('base64');
        if (broken !== null) e.issuedAt = broken;
        const before = app.business.version;
        checkAfter(await deliver('config', e));
        const applied = app.business.version === version;
        if (applied) expect(signed && broken === null).toBe(true);
        if (kind === 'valid' && signed && broken === null) expect(applied).toBe(true);
        if (!applied) expect(app.business.version).toBe(before);
      }),
      fuzzParams(40),
    );
  });

  it('commands: signed or not, expired or not, any name and args; the daemon answers or refuses, never throws', async () => {
    const names = fc.constantFrom(
      'diagnostics',
      'ledger.resync',
      'reprint',
      'config.resync',
      'nope',
      '__proto__',
    );
    const args = fc.oneof(
      fc.constant(undefined),
      fc.dictionary(
        fc.constantFrom('fromSeq', 'saleId', 'jobId', '__proto__'),
        fc.oneof(anyJson, hostileValue),
        {
          maxKeys: 3,
        },
      ),
    );
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        names,
        args,
        fc.boolean(),
        fc.boolean(),
        mutatedArbOrNot(),
        async (name, a, signed, expired, mutate) => {
          n += 1;
          const c: Record<string, unknown> = {
            cmdId: `fuzz-${n}`,
            name,
            ...(a === undefined ? {} : { args: a }),
            issuedAt: new Date().toISOString(),
            expiresAt: new Date(Date.now() + (expired ? -1_000 : 60_000)).toISOString(),
          };
          c.sig = signed ? signCommand(c) : 'AAAA';
          checkAfter(await deliver('cmd', mutate(c)));
        },
      ),
      fuzzParams(40),
    );
  });

  // Found by this fuzzer (seed 20261205, raw bytes on config): 100 000 nested arrays (200 KB) made
  // the config refusal overflow the stack while hashing the envelope, and the exception escaped
  // the MQTT message handler.
  it('regression: deeply nested arrays on down/config are refused, not a stack overflow', async () => {
    const refused = app.sync!.refusedPayloads.get('config') ?? 0;
    checkAfter(await deliver('config', deepText('[', 100_000)));
    expect(app.sync!.refusedPayloads.get('config')).toBe(refused + 1);
    for (const kind of ['ack', 'order', 'cmd', 'resp', 'notify'])
      checkAfter(await deliver(kind, deepText('[', 100_000)));
  });

  it('the depth check reads JSON text as the parser does (brackets in strings and escapes are text)', () => {
    const depthOf = (v: unknown): number =>
      v !== null && typeof v === 'object'
        ? 1 + Math.max(0, ...Object.values(v as Record<string, unknown>).map(depthOf))
        : 0;
    const tricky = fc.string({ unit: fc.constantFrom('[', ']', '{', '}', '"', '\\', 'a') });
    const json = fc.letrec((tie) => ({
      v: fc.oneof({ depthSize: 'small' }, tricky, fc.array(tie('v')), fc.dictionary(tricky, tie('v'))),
    })).v;
    fc.assert(
      fc.property(json, fc.nat({ max: 6 }), (v, max) => {
        expect(nestedDeeperThan(JSON.stringify(v), max)).toBe(depthOf(v) > max);
      }),
      fuzzParams(100),
    );
  });

  it('deep nesting in an order, a config doc and command args is refused or stored, never a stack overflow', async () => {
    const deep = deepNest(50_000);
    checkAfter(await deliver('order', { downSeq: 1, order: { id: 'deep', customer: deep } }));
    const e: Record<string, unknown> = {
      version: app.business.version + 1,
      issuedAt: 'x',
      doc: { merchant: deep },
    };
    e.sig = 'AAAA';
    checkAfter(await deliver('config', e));
    checkAfter(
      await deliver('cmd', {
        cmdId: 'deep',
        name: 'diagnostics',
        args: { a: deep },
        issuedAt: 'x',
        expiresAt: 'x',
        sig: 'A',
      }),
    );
  });

  it('a flood of distinct malformed config envelopes does not flood the ledger', async () => {
    const count = () => ledgerCount('config.rejected');
    const start = count();
    for (let i = 0; i < 200; i++) {
      await deliver('config', { version: `v${i}`, issuedAt: 'x', doc: {}, sig: 'A' });
    }
    expect(count() - start).toBeLessThanOrEqual(50);
  });
});

function mutatedArbOrNot(): fc.Arbitrary<(c: Record<string, unknown>) => unknown> {
  return fc.oneof(
    fc.constant((c: Record<string, unknown>) => c),
    fc.array(fc.nat(), { maxLength: 0 }).chain(() => mutatedArb(fc.constant({})).map((m) => () => m)),
    fc
      .tuple(fc.constantFrom('cmdId', 'name', 'issuedAt', 'expiresAt', 'sig', 'args'), hostileValue)
      .map(([k, v]) => (c: Record<string, unknown>) => ({ ...c, [k]: v })),
  );
}

function ledgerCount(type: string): number {
  const db = (app as unknown as { db: { prepare(sql: string): { get(t: string): { n: number } } } }).db;
  return db.prepare('SELECT count(*) AS n FROM ledger WHERE type = ?').get(type).n;
}
