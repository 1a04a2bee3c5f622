import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envNameFor } from '../../src/config/env.js';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { redactBrokerUrl } from '../../src/sync/broker-url.js';
import { tempDir } from '../helpers/daemon.js';

function configFile(content: unknown): string {
  const file = join(tempDir(), 'posd.json');
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const minimal = { device: { tenant: 't1', id: 'D1' } };

describe('config', () => {
  it('fills every default from the contract', () => {
    const { config } = loadConfig({ file: configFile(minimal), env: {} });
    expect(config.stateDir).toBe('/var/lib/posd');
    expect(config.ui).toEqual({ host: '127.0.0.1', port: 8080, appsPort: 8081 });
    expect(config.printer).toEqual({ uri: 'none', paperWidth: 80, autoPrint: true });
    expect(config.mqtt.url).toBeUndefined();
  });

  it('names environment variables from the key path words', () => {
    expect(envNameFor(['ui', 'port'])).toBe('POSD_UI_PORT');
    expect(envNameFor(['stateDir'])).toBe('POSD_STATE_DIR');
    expect(envNameFor(['printer', 'paperWidth'])).toBe('POSD_PRINTER_PAPER_WIDTH');
    expect(envNameFor(['cloud', 'publicKey'])).toBe('POSD_CLOUD_PUBLIC_KEY');
  });

  it('applies environment overrides over the file, typed by the schema', () => {
    const { config, warnings } = loadConfig({
      file: configFile({ ...minimal, ui: { port: 9000 } }),
      env: {
        POSD_UI_PORT: '8181',
        POSD_STATE_DIR: '/tmp/x',
        POSD_PRINTER_PAPER_WIDTH: '58',
        POSD_PRINTER_AUTO_PRINT: 'false',
        POSD_DEVICE_ID: 'D9',
        POSD_MQTT_URL: 'mqtt://127.0.0.1:1883',
        POSD_NO_SUCH_KEY: '1',
        HOME: '/root',
      },
    });
    expect(config.ui.port).toBe(8181);
    expect(config.stateDir).toBe('/tmp/x');
    expect(config.printer.paperWidth).toBe(58);
    expect(config.printer.autoPrint).toBe(false);
    expect(config.device.id).toBe('D9');
    expect(config.mqtt.url).toBe('mqtt://127.0.0.1:1883');
    expect(warnings).toEqual(['POSD_NO_SUCH_KEY: names no config key, ignored']);
  });

  it('reports every problem at once as path: message', () => {
    const problems = problemsOf(() =>
      loadConfig({
        file: configFile({
          device: { id: 'bad id' },
          ui: { port: 70000 },
          printer: { uri: 'lpt:1', paperWidth: 70 },
          scanner: { uri: 'hid://12:34' },
          mqtt: { url: 'http://x' },
          surprise: true,
        }),
        env: { POSD_PRINTER_AUTO_PRINT: 'maybe' },
      }),
    );
    const paths = problems.map((p) => p.split(':')[0]);
    expect(paths).toEqual(
      expect.arrayContaining([
        'device.tenant',
        'device.id',
        'ui.port',
        'printer.uri',
        'printer.paperWidth',
        'printer.autoPrint',
        'scanner.uri',
        'mqtt.url',
        'surprise',
      ]),
    );
    for (const p of problems) expect(p).toMatch(/^[\w.()]+: \S/);
    expect(problems.find((p) => p.startsWith('printer.paperWidth'))).toContain('58, 80');
  });

  it('refuses a file that is missing or not JSON, with the file named', () => {
    expect(problemsOf(() => loadConfig({ file: '/nonexistent/posd.json', env: {} }))[0]).toMatch(
      /cannot read \/nonexistent\/posd.json: ENOENT/,
    );
    expect(problemsOf(() => loadConfig({ file: configFile('{"device":'), env: {} }))[0]).toMatch(
      /not valid JSON/,
    );
    expect(problemsOf(() => loadConfig({ file: configFile('[1,2]'), env: {} }))[0]).toMatch(/JSON object/);
  });

  it('checks TLS files and the cloud key', () => {
    const problems = problemsOf(() =>
      loadConfig({
        file: configFile({
          ...minimal,
          mqtt: { url: 'mqtts://broker:8883', cert: '/nonexistent/cert.pem' },
          cloud: { publicKey: 'not a key' },
        }),
        env: {},
      }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        'mqtt.cert: a client certificate needs both mqtt.cert and mqtt.key',
        'mqtt.cert: cannot read /nonexistent/cert.pem: ENOENT',
        'cloud.publicKey: must be a PEM public key (-----BEGIN PUBLIC KEY-----)',
      ]),
    );
  });

  it('reads mqtt.key as credential:NAME from the credentials systemd gave the process', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'cert.pem'), 'x');
    writeFileSync(join(dir, 'posd_mqtt-client.key'), 'k');
    const file = configFile({
      ...minimal,
      mqtt: {
        url: 'mqtts://b.example:8883',
        cert: join(dir, 'cert.pem'),
        key: 'credential:posd_mqtt-client.key',
      },
    });
    const given = loadConfig({ file, env: { CREDENTIALS_DIRECTORY: dir } });
    expect(given.config.mqtt.key).toBe(join(dir, 'posd_mqtt-client.key'));
    expect(given.warnings).toEqual([]);
    // Anyone else (posd doctor as the technician): a valid config, the key not theirs to read.
    const other = loadConfig({ file, env: {} });
    expect(other.config.mqtt.key).toBe('credential:posd_mqtt-client.key');
    expect(other.warnings).toEqual([
      expect.stringMatching(/^mqtt\.key: credential:posd_mqtt-client\.key: a systemd credential/),
    ]);
    // The daemon given credentials without this one: the usual unreadable-file problem.
    expect(problemsOf(() => loadConfig({ file, env: { CREDENTIALS_DIRECTORY: tempDir() } }))).toEqual([
      expect.stringMatching(/^mqtt\.key: cannot read .*posd_mqtt-client\.key: ENOENT/),
    ]);
    const bad = configFile({
      ...minimal,
      mqtt: { url: 'mqtts://b.example:8883', cert: join(dir, 'cert.pem'), key: 'credential:../x' },
    });
    expect(problemsOf(() => loadConfig({ file: bad, env: { CREDENTIALS_DIRECTORY: dir } }))).toEqual([
      expect.stringMatching(/^mqtt\.key: credential:\.\.\/x: a credential name is/),
    ]);
  });

  it('accepts every device address form of the contract', () => {
    for (const uri of [
      'tcp://192.0.2.10:9100',
      'serial:///dev/ttyUSB0?baud=19200',
      'file:///dev/usb/lp0',
      'hid://0c2e:0b61',
      'sim:',
      'none',
    ]) {
      expect(() => loadConfig({ file: configFile({ ...minimal, printer: { uri } }), env: {} })).not.toThrow();
    }
  });

  it('allows plain mqtt:// only to loopback, and only an Ed25519 cloud key', () => {
    for (const url of [
      'mqtt://127.0.0.1:1883',
      'mqtt://localhost',
      'mqtt://[::1]:1883',
      'mqtts://broker.example.com',
    ]) {
      expect(loadConfig({ file: configFile({ ...minimal, mqtt: { url } }), env: {} }).config.mqtt.url).toBe(
        url,
      );
    }
    for (const url of ['mqtt://broker.example.com', 'mqtt://10.0.0.5:1883', 'mqtt://user:pw@192.168.1.2']) {
      const problems = problemsOf(() =>
        loadConfig({ file: configFile({ ...minimal, mqtt: { url } }), env: {} }),
      );
      expect(problems, url).toEqual([
        expect.stringMatching(/^mqtt\.url: plain mqtt:\/\/ is allowed only to a loopback host/),
      ]);
    }
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({
      type: 'spki',
      format: 'pem',
    });
    const problems = problemsOf(() =>
      loadConfig({ file: configFile({ ...minimal, cloud: { publicKey: rsa.toString() } }), env: {} }),
    );
    expect(problems).toEqual(['cloud.publicKey: the cloud key must be Ed25519, not rsa']);
  });

  it('never logs the broker credentials', () => {
    expect(redactBrokerUrl('mqtts://dev1:s3cret@broker.example.com:8883')).toBe(
      'mqtts://***:***@broker.example.com:8883',
    );
    expect(redactBrokerUrl('mqtt://127.0.0.1:1883')).toBe('mqtt://127.0.0.1:1883');
  });

  it('takes several brokers as mqtt.urls (mqtt.url first when both are set), also from POSD_MQTT_URLS', () => {
    const both = loadConfig({
      file: configFile({
        ...minimal,
        mqtt: {
          url: 'mqtt://127.0.0.1:1',
          urls: ['mqtt://127.0.0.1:2', 'mqtt://127.0.0.1:1', 'mqtt://localhost:3'],
        },
      }),
      env: {},
    });
    expect(both.config.mqtt.urls).toEqual(['mqtt://127.0.0.1:1', 'mqtt://127.0.0.1:2', 'mqtt://localhost:3']);
    expect(both.config.mqtt.url).toBe('mqtt://127.0.0.1:1');
    const fromEnv = loadConfig({
      file: configFile(minimal),
      env: { POSD_MQTT_URLS: 'mqtts://n1.example:8883, mqtts://n2.example:8883 mqtts://n3.example:8883' },
    });
    expect(fromEnv.config.mqtt.urls).toEqual([
      'mqtts://n1.example:8883',
      'mqtts://n2.example:8883',
      'mqtts://n3.example:8883',
    ]);
    // A link is configured when either key names a broker.
    expect(fromEnv.config.mqtt.url).toBe('mqtts://n1.example:8883');
    const single = loadConfig({
      file: configFile({ ...minimal, mqtt: { url: 'mqtt://127.0.0.1:1' } }),
      env: {},
    });
    expect(single.config.mqtt.urls).toEqual(['mqtt://127.0.0.1:1']);
  });

  it('checks each of mqtt.urls as it checks mqtt.url', () => {
    const problems = problemsOf(() =>
      loadConfig({
        file: configFile({
          ...minimal,
          mqtt: { urls: ['mqtts://n1.example:8883', 'mqtt://n2.example:1883', 'http://x'] },
        }),
        env: {},
      }),
    );
    expect(problems).toContain('mqtt.urls.2: must be an mqtt:// or mqtts:// URL');
    expect(problems).toContain(
      'mqtt.urls.1: plain mqtt:// is allowed only to a loopback host, not n2.example; use mqtts://',
    );
    expect(
      problemsOf(() => loadConfig({ file: configFile({ ...minimal, mqtt: { urls: [] } }), env: {} })),
    ).toEqual([expect.stringMatching(/^mqtt\.urls: /)]);
  });
});
