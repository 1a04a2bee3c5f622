import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  decideProvisioning,
  type ProvisionedState,
  parseRefusal,
  provisioningSigningText,
} from '../../../src/config/provisioning.js';

// Provisioning once: the rules image/files/provision.mjs applies (docs/operations.md "Provisioning").
const fleet = generateKeyPairSync('ed25519');
const fleetPem = fleet.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const other = generateKeyPairSync('ed25519');
const doc = { deviceId: 'T1', tenant: 'acme', brokerUrl: 'mqtts://b.example:8883' };
const held: ProvisionedState = { deviceId: 'T1', fleetKey: fleetPem, version: 3 };

function signed(
  d: Record<string, unknown>,
  version: number,
  forDevice = 'T1',
  key: KeyObject = fleet.privateKey,
): Record<string, unknown> {
  const env = { version, issuedAt: '2026-12-01T10:00:00Z', forDevice, doc: d };
  return { ...env, sig: sign(null, Buffer.from(provisioningSigningText(env)), key).toString('base64') };
}

describe('provisioning once', () => {
  it('a device never provisioned takes its first file, signed or not', () => {
    expect(decideProvisioning(doc, undefined, false)).toEqual({
      accept: true,
      doc,
      how: 'first',
      version: 0,
    });
    expect(decideProvisioning(signed(doc, 1), undefined, false)).toMatchObject({
      accept: true,
      doc,
      version: 1,
    });
  });

  it('a provisioned device refuses an unsigned file', () => {
    expect(decideProvisioning(doc, held, false)).toMatchObject({ accept: false, code: 'UNSIGNED' });
  });

  it('takes a file signed by its fleet key, for it, with a higher version', () => {
    expect(decideProvisioning(signed(doc, 4), held, false)).toEqual({
      accept: true,
      doc,
      how: 'signed',
      version: 4,
    });
  });

  it.each([
    ['signed by another key', signed(doc, 4, 'T1', other.privateKey), 'BAD_SIGNATURE'],
    ['signed for another device', signed(doc, 4, 'T2'), 'WRONG_DEVICE'],
    ['an old version replayed', signed(doc, 3), 'OLD_VERSION'],
    [
      'with its doc changed after signing',
      { ...signed(doc, 4), doc: { ...doc, brokerUrl: 'mqtts://rogue:8883' } },
      'BAD_SIGNATURE',
    ],
    ['with its device changed after signing', { ...signed(doc, 4, 'T2'), forDevice: 'T1' }, 'BAD_SIGNATURE'],
    ['with a signature that is not base64 of 64 bytes', { ...signed(doc, 4), sig: 'abc' }, 'BAD_SIGNATURE'],
    ['with an extra key', { ...signed(doc, 4), note: 'x' }, 'MALFORMED'],
    ['with a version that is not a whole number', { ...signed(doc, 4), version: 4.5 }, 'MALFORMED'],
    ['with no issuedAt time', { ...signed(doc, 4), issuedAt: 'soon' }, 'MALFORMED'],
  ])('refuses a file %s', (_n, file, code) => {
    expect(decideProvisioning(file, held, false)).toMatchObject({ accept: false, code });
  });

  it('a device that holds no fleet key takes a signed file only after a technician reset', () => {
    const noKey = { deviceId: 'T1', version: 0 };
    expect(decideProvisioning(signed(doc, 1), noKey, false)).toMatchObject({
      accept: false,
      code: 'NO_FLEET_KEY',
    });
    expect(decideProvisioning(signed(doc, 1), noKey, true)).toMatchObject({ accept: true, how: 'reset' });
  });

  it('a technician reset allows an unsigned file and never lowers the version', () => {
    expect(decideProvisioning(doc, held, true)).toEqual({ accept: true, doc, how: 'reset', version: 3 });
    expect(decideProvisioning(signed(doc, 1, 'T9', other.privateKey), held, true)).toMatchObject({
      accept: true,
      how: 'reset',
      version: 3,
    });
  });

  it('refuses what is not a JSON object, even after a reset', () => {
    for (const f of [null, [], 'x', 42]) {
      expect(decideProvisioning(f, held, true)).toMatchObject({ accept: false, code: 'MALFORMED' });
    }
  });

  it('reads a refusal left for posd, bounded whatever the file holds', () => {
    const sha = 'a'.repeat(64);
    expect(
      parseRefusal(
        JSON.stringify({ at: '2026-12-01T10:00:00Z', code: 'UNSIGNED', reasons: ['r'], sha256: sha }),
      ),
    ).toEqual({ at: '2026-12-01T10:00:00Z', code: 'UNSIGNED', reasons: ['r'], sha256: sha });
    const big = parseRefusal(
      JSON.stringify({
        at: 'x',
        code: 'INVALID',
        reasons: [...Array(50)].map(() => 'y'.repeat(1000)),
        sha256: 'nope',
      }),
    );
    expect(big?.reasons).toHaveLength(20);
    expect(big?.reasons[0]).toHaveLength(300);
    expect(big).not.toHaveProperty('sha256');
    expect(parseRefusal('{')).toBeUndefined();
    expect(parseRefusal('{"code":"X"}')).toBeUndefined();
  });
});
