import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson } from '../offline/chain.js';
import { loadPublicKey, verifySignature } from '../sync/signature.js';

// Provisioning once (docs/operations.md "Provisioning"): what the image's first-boot provisioning
// (image/files/provision.mjs) may apply. The first file of a device is taken as it is; after that a
// new file must be signed by the fleet's provisioning key, or follow a technician reset on the device.

/** What the device holds from its last provisioning (`/etc/posd/provisioned.json`). */
export interface ProvisionedState {
  deviceId: string;
  /** The fleet's provisioning key (Ed25519, PEM) given by the last applied file, if any. */
  fleetKey?: string;
  /** The version of the last signed file applied (0: none yet). */
  version: number;
}

/**
 * A signed provisioning file, signed like a cloud config (mqtt-v1 "Config push"): `sig` is Ed25519
 * over the RFC 8785 canonical JSON of `{version, issuedAt, forDevice, doc}`. `forDevice` is the id
 * the device holds now (a file for one terminal cannot be replayed on another) and `version` must be
 * above the last one applied (an older file cannot roll a terminal back).
 */
export interface SignedProvisioning {
  version: number;
  issuedAt: string;
  forDevice: string;
  doc: Record<string, unknown>;
  sig: string;
}

export type RefusalCode =
  | 'UNSIGNED'
  | 'BAD_SIGNATURE'
  | 'NO_FLEET_KEY'
  | 'WRONG_DEVICE'
  | 'OLD_VERSION'
  | 'MALFORMED';

export type ProvisioningDecision =
  | { accept: true; doc: Record<string, unknown>; how: 'first' | 'signed' | 'reset'; version: number }
  | { accept: false; code: RefusalCode; reason: string };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export function provisioningSignedFields(f: {
  version: unknown;
  issuedAt: unknown;
  forDevice: unknown;
  doc: unknown;
}): Record<string, unknown> {
  return { version: f.version, issuedAt: f.issuedAt, forDevice: f.forDevice, doc: f.doc };
}

/** The bytes a fleet signs (for the signing tool and tests). */
export function provisioningSigningText(f: SignedProvisioning | Omit<SignedProvisioning, 'sig'>): string {
  return canonicalJson(provisioningSignedFields(f));
}

function envelopeProblem(file: Record<string, unknown>): string | undefined {
  const keys = Object.keys(file).sort().join(',');
  if (keys !== 'doc,forDevice,issuedAt,sig,version') {
    return 'a signed file has exactly version, issuedAt, forDevice, doc and sig';
  }
  if (!Number.isSafeInteger(file.version) || (file.version as number) < 1)
    return 'version: a whole number from 1';
  if (typeof file.issuedAt !== 'string' || Number.isNaN(Date.parse(file.issuedAt))) {
    return 'issuedAt: an RFC 3339 time';
  }
  if (typeof file.forDevice !== 'string') return 'forDevice: the device id it is for';
  if (!isObject(file.doc)) return 'doc: the provisioning fields';
  if (typeof file.sig !== 'string') return 'sig: base64 Ed25519';
  return undefined;
}

/**
 * Decides whether a provisioning file may be applied. `state` is undefined on a device never
 * provisioned; `resetAllowed` says a technician reset on the device allows one unsigned file.
 * The doc itself (certificates, keys, URL) is validated by the caller after this.
 */
export function decideProvisioning(
  file: unknown,
  state: ProvisionedState | undefined,
  resetAllowed: boolean,
): ProvisioningDecision {
  if (!isObject(file)) return { accept: false, code: 'MALFORMED', reason: 'the file is not a JSON object' };
  const signed = 'sig' in file;
  const problem = signed ? envelopeProblem(file) : undefined;
  if (problem) return { accept: false, code: 'MALFORMED', reason: problem };
  const env = signed ? (file as unknown as SignedProvisioning) : undefined;
  const doc = env ? env.doc : file;
  const version = env ? env.version : 0;
  if (!state) return { accept: true, doc, how: 'first', version };
  // A reset by a technician on the device allows one file, signed or not; it never lowers the version.
  if (resetAllowed) return { accept: true, doc, how: 'reset', version: Math.max(version, state.version) };
  if (!env) {
    return {
      accept: false,
      code: 'UNSIGNED',
      reason: `device ${state.deviceId} is provisioned: a new file must be signed by the fleet's provisioning key, or allowed by a technician reset on the device`,
    };
  }
  if (!state.fleetKey) {
    return {
      accept: false,
      code: 'NO_FLEET_KEY',
      reason: `device ${state.deviceId} holds no fleet provisioning key: only a technician reset on the device allows a new file`,
    };
  }
  let ok = false;
  try {
    ok = verifySignature(loadPublicKey(state.fleetKey), provisioningSignedFields(env), env.sig);
  } catch {
    ok = false;
  }
  if (!ok) {
    return {
      accept: false,
      code: 'BAD_SIGNATURE',
      reason: 'the signature does not verify with the fleet provisioning key',
    };
  }
  if (env.forDevice !== state.deviceId) {
    return {
      accept: false,
      code: 'WRONG_DEVICE',
      reason: `signed for device ${env.forDevice}, this is ${state.deviceId}`,
    };
  }
  if (env.version <= state.version) {
    return {
      accept: false,
      code: 'OLD_VERSION',
      reason: `version ${env.version} is not above the applied ${state.version}`,
    };
  }
  return { accept: true, doc, how: 'signed', version: env.version };
}

/** The file provisioning leaves in the state dir when it refuses one, for `P/up/state`. */
export const REFUSAL_FILE = 'provisioning-refused.json';

export interface ProvisioningRefusal {
  at: string;
  code: string;
  reasons: string[];
  sha256?: string;
}

/** Reads a refusal left by provisioning (undefined when none or unreadable); bounded, whatever the file holds. */
export function parseRefusal(text: string): ProvisioningRefusal | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(v) || typeof v.at !== 'string' || typeof v.code !== 'string') return undefined;
  const reasons = Array.isArray(v.reasons)
    ? v.reasons
        .filter((r): r is string => typeof r === 'string')
        .slice(0, 20)
        .map((r) => r.slice(0, 300))
    : [];
  return {
    at: v.at.slice(0, 40),
    code: v.code.slice(0, 40),
    reasons,
    ...(typeof v.sha256 === 'string' && /^[0-9a-f]{64}$/.test(v.sha256) ? { sha256: v.sha256 } : {}),
  };
}

/** The refusal provisioning left in the state dir, if any (none is the usual case). */
export function readRefusal(stateDir: string): ProvisioningRefusal | undefined {
  try {
    return parseRefusal(readFileSync(join(stateDir, REFUSAL_FILE), 'utf8'));
  } catch {
    return undefined;
  }
}
