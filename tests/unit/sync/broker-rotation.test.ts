import { describe, expect, it } from 'vitest';
import {
  BrokerRotation,
  brokerKey,
  REPROBE_V5_MS,
  type VersionMemory,
} from '../../../src/sync/broker-rotation.js';
import { classifyLinkError, LinkTrouble } from '../../../src/sync/link-failure.js';
import { captureLog } from '../devices/helpers/capture-log.js';

const urls = ['mqtt://n1:1883', 'mqtt://n2:1883', 'mqtt://n3:1883'];
const backoff = { initialMs: 1_000, maxMs: 30_000 };
const noJitter = () => 1;

function memory(): VersionMemory & { map: Map<string, number> } {
  const map = new Map<string, number>();
  return { map, get: (u) => map.get(u), remember: (u, at) => map.set(u, at) };
}

describe('broker rotation', () => {
  it('moves to the next URL on every failure; the backoff grows only once all URLs failed at a step', () => {
    const r = new BrokerRotation(urls, undefined, undefined, backoff, noJitter);
    const seen: Array<[string, number]> = [];
    for (let i = 0; i < 7; i++) {
      const url = r.url;
      seen.push([url, r.failed(false)]);
    }
    expect(seen).toEqual([
      ['mqtt://n1:1883', 1_000],
      ['mqtt://n2:1883', 1_000],
      ['mqtt://n3:1883', 1_000],
      ['mqtt://n1:1883', 2_000],
      ['mqtt://n2:1883', 2_000],
      ['mqtt://n3:1883', 2_000],
      ['mqtt://n1:1883', 4_000],
    ]);
  });

  it('a lost connection (a node died) goes to the next node after the first step, and a CONNACK resets', () => {
    const r = new BrokerRotation(urls, undefined, undefined, backoff, noJitter);
    for (let i = 0; i < 9; i++) r.failed(false);
    expect(r.url).toBe('mqtt://n1:1883');
    r.connected(5);
    expect(r.failed(true)).toBe(1_000);
    expect(r.url).toBe('mqtt://n2:1883');
  });

  it('jitter keeps each delay between half and all of its step', () => {
    const low = new BrokerRotation(urls, undefined, undefined, backoff, () => 0);
    expect(low.failed(false)).toBe(500);
  });

  it('falls back to 3.1.1 per URL and remembers it only once 3.1.1 got a CONNACK there', () => {
    const m = memory();
    const r = new BrokerRotation(urls, undefined, m, backoff, noJitter);
    expect(r.version).toBe(5);
    expect(r.mayFallBack).toBe(true);
    r.fallBack();
    expect(r.version).toBe(4);
    expect(r.connected(4)).toBe(true);
    expect([...m.map.keys()]).toEqual(['mqtt://n1:1883']);
    r.failed(true);
    expect(r.url).toBe('mqtt://n2:1883');
    expect(r.version).toBe(5); // n2 is not known to be 3.1.1
    r.fallBack();
    r.failed(false); // 3.1.1 failed there too: nothing learnt, n2 tries 5 next time
    expect(m.map.has('mqtt://n2:1883')).toBe(false);
    r.failed(false);
    r.failed(false);
    expect(r.url).toBe('mqtt://n2:1883');
    expect(r.version).toBe(5);
    r.failed(false);
    r.failed(false);
    expect(r.url).toBe('mqtt://n1:1883');
    expect(r.version).toBe(4); // remembered
    expect(r.mayFallBack).toBe(false);
  });

  it('a broker remembered as 3.1.1 (a v5 CONNECT cut once, by an outage or a hostile network) is offered MQTT 5 again after a day', () => {
    const m = memory();
    let now = Date.parse('2026-12-05T10:00:00Z');
    const r = new BrokerRotation(['mqtt://n1:1883'], undefined, m, backoff, noJitter, () => now);
    r.fallBack(); // the v5 CONNECT was cut; 3.1.1 then got a CONNACK
    expect(r.connected(4)).toBe(true);
    expect(r.version).toBe(4);
    now += REPROBE_V5_MS - 1;
    expect(r.version).toBe(4);
    now += 1;
    expect(r.version).toBe(5); // a day on: MQTT 5 first again
    expect(r.connected(5)).toBe(false);
    expect(r.version).toBe(5);
    // A true 3.1.1 broker hangs up on that probe: 3.1.1 again, remembered from now, not newly learnt.
    r.fallBack();
    expect(r.connected(4)).toBe(false);
    expect(m.map.get('mqtt://n1:1883')).toBe(now);
    expect(r.version).toBe(4);
    // A row written before the time was kept ('4') reads as long ago: MQTT 5 is offered.
    m.map.set('mqtt://n1:1883', 0);
    expect(r.version).toBe(5);
  });

  it('a forced version is used everywhere and never falls back', () => {
    const m = memory();
    m.map.set('mqtt://n1:1883', Date.now());
    const r = new BrokerRotation(urls, 5, m, backoff, noJitter);
    expect(r.version).toBe(5);
    expect(r.mayFallBack).toBe(false);
  });

  it('keys the memory by scheme, host and port, never by credentials', () => {
    expect(brokerKey('mqtts://user:secret@b.example/x')).toBe('mqtts://b.example:8883');
    expect(brokerKey('mqtt://127.0.0.1')).toBe('mqtt://127.0.0.1:1883');
  });
});

describe('link trouble', () => {
  it('says a failure once per change of reason per broker, then at most once per interval with the count', () => {
    let t = 0;
    const { log, lines } = captureLog();
    const trouble = new LinkTrouble(log, 60_000, () => t);
    const said = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    for (let i = 0; i < 50; i++) {
      t += 1_000;
      trouble.failed('mqtt://n1:1883', { reason: 'connection refused' }, 5);
    }
    expect(said()).toHaveLength(1);
    expect(said()[0]).toMatchObject({ level: 'warn', reason: 'connection refused', failures: 1 });
    t += 20_000;
    trouble.failed('mqtt://n1:1883', { reason: 'connection refused' }, 5);
    expect(said()).toHaveLength(2);
    expect(said()[1]).toMatchObject({ msg: 'cloud link still failing: connection refused', failures: 51 });
    trouble.failed('mqtt://n1:1883', { reason: 'TLS error', detail: 'CERT_HAS_EXPIRED' }, 5);
    trouble.failed('mqtt://n2:1883', { reason: 'not authorized', connackCode: 5 }, 4);
    expect(said().slice(2)).toEqual([
      expect.objectContaining({ msg: 'cloud link failing: TLS error', detail: 'CERT_HAS_EXPIRED' }),
      expect.objectContaining({ msg: 'cloud link failing: not authorized', connackCode: 5, mqtt: 4 }),
    ]);
    expect(trouble.up()).toBe(53);
    trouble.failed('mqtt://n1:1883', { reason: 'TLS error' }, 5);
    expect(said()).toHaveLength(5);
  });
});

describe('link failure reasons', () => {
  const err = (code: unknown, message = 'x') => Object.assign(new Error(message), { code });
  it('names refusals, TLS errors, authorization and hang-ups', () => {
    expect(classifyLinkError(err('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1'), false).reason).toBe(
      'connection refused',
    );
    expect(classifyLinkError(err('ENOTFOUND'), false).reason).toBe('host not found');
    expect(classifyLinkError(err('CERT_HAS_EXPIRED', 'certificate has expired'), true).reason).toBe(
      'TLS error',
    );
    expect(classifyLinkError(err('ERR_TLS_CERT_ALTNAME_INVALID'), true).reason).toBe('TLS error');
    expect(classifyLinkError(err('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA'), true).reason).toBe('TLS error');
    expect(classifyLinkError(err(5, 'Connection refused: Not authorized'), true)).toMatchObject({
      reason: 'not authorized',
      connackCode: 5,
    });
    expect(classifyLinkError(err(135), true).reason).toBe('not authorized');
    expect(classifyLinkError(err(132), true)).toMatchObject({
      reason: 'refused by broker',
      connackCode: 132,
    });
    expect(classifyLinkError(new Error('connack timeout'), true).reason).toBe('no CONNACK in time');
    expect(classifyLinkError(err('ECONNRESET'), true).reason).toBe('closed without CONNACK');
    expect(classifyLinkError(err('ECONNRESET'), false).reason).toBe('error');
  });
});
