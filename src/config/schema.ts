import { type Static, Type } from '@sinclair/typebox';

const Identifier = (description: string) => Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', description });

const DeviceUriString = (description: string) => Type.String({ default: 'none', description });

/** The local config file (docs/contract/local-v1.md). Every key is also `POSD_*` in the environment. */
export const ConfigSchema = Type.Object(
  {
    device: Type.Object(
      {
        tenant: Identifier('1 to 64 letters, digits, _ or - (the tenant in MQTT topics)'),
        id: Identifier('1 to 64 letters, digits, _ or - (the device in MQTT topics and receipt numbers)'),
      },
      { additionalProperties: false, default: {} },
    ),
    stateDir: Type.String({ default: '/var/lib/posd', minLength: 1 }),
    mqtt: Type.Object(
      {
        url: Type.Optional(Type.String({ pattern: '^mqtts?://', description: 'an mqtt:// or mqtts:// URL' })),
        // Extension beside the contract's `mqtt.url`: the nodes of a broker cluster, tried in turn.
        urls: Type.Optional(
          Type.Array(Type.String({ pattern: '^mqtts?://', description: 'an mqtt:// or mqtts:// URL' }), {
            minItems: 1,
            maxItems: 16,
            description: 'brokers tried in turn (a cluster), after mqtt.url when both are set',
          }),
        ),
        ca: Type.Optional(Type.String({ minLength: 1 })),
        cert: Type.Optional(Type.String({ minLength: 1 })),
        key: Type.Optional(Type.String({ minLength: 1 })),
        protocolVersion: Type.Optional(
          Type.Union([Type.Literal(4), Type.Literal(5)], {
            description: '4 forces MQTT 3.1.1; default 5 with fallback',
          }),
        ),
        reconnectMinMs: Type.Integer({ default: 1_000, minimum: 50, maximum: 60_000 }),
        reconnectMaxMs: Type.Integer({ default: 30_000, minimum: 50, maximum: 600_000 }),
      },
      { additionalProperties: false, default: {} },
    ),
    cloud: Type.Object(
      { publicKey: Type.Optional(Type.String({ minLength: 1, description: 'Ed25519 public key, PEM' })) },
      { additionalProperties: false, default: {} },
    ),
    ui: Type.Object(
      {
        host: Type.String({ default: '127.0.0.1', minLength: 1 }),
        port: Type.Integer({ default: 8080, minimum: 0, maximum: 65535 }),
        appsPort: Type.Integer({
          default: 8081,
          minimum: 0,
          maximum: 65535,
          description: 'store apps, each at http://{label}.apps.localhost:{appsPort}/',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    printer: Type.Object(
      {
        uri: DeviceUriString('printer address'),
        paperWidth: Type.Union([Type.Literal(58), Type.Literal(80)], { default: 80 }),
        autoPrint: Type.Boolean({ default: true }),
      },
      { additionalProperties: false, default: {} },
    ),
    scanner: Type.Object(
      { uri: DeviceUriString('scanner address') },
      { additionalProperties: false, default: {} },
    ),
    display: Type.Object(
      { uri: DeviceUriString('customer display address') },
      { additionalProperties: false, default: {} },
    ),
    ledger: Type.Object(
      {
        retentionDays: Type.Integer({
          default: 90,
          minimum: 1,
          description: 'synced records older than this are pruned; unsynced ones never are',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    update: Type.Object(
      {
        rauc: Type.Array(Type.String({ minLength: 1 }), {
          default: ['rauc'],
          minItems: 1,
          description: 'the RAUC command line, an argv prefix',
        }),
        reboot: Type.Array(Type.String({ minLength: 1 }), {
          default: ['systemctl', 'reboot'],
          minItems: 1,
          description: 'the reboot command, an argv',
        }),
        window: Type.Optional(
          Type.String({
            pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$',
            description: 'HH:MM-HH:MM local time',
          }),
        ),
        healthGraceSeconds: Type.Integer({ default: 120, minimum: 0, maximum: 3_600 }),
      },
      { additionalProperties: false, default: {} },
    ),
    log: Type.Object(
      {
        level: Type.Union(
          ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
          { default: 'info' },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);

export type PosdConfig = Static<typeof ConfigSchema> & {
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' };
};
