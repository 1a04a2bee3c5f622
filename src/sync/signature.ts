import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { canonicalJson } from '../offline/chain.js';

/** Ed25519 over the RFC 8785 canonical JSON of the signed fields (mqtt-v1 config and commands). */
export function verifySignature(
  publicKey: KeyObject,
  signed: Record<string, unknown>,
  sigBase64: string,
): boolean {
  let sig: Buffer;
  try {
    sig = Buffer.from(sigBase64, 'base64');
  } catch {
    return false;
  }
  if (sig.length !== 64) return false;
  try {
    return verify(null, Buffer.from(canonicalJson(signed), 'utf8'), publicKey, sig);
  } catch {
    return false;
  }
}

export function loadPublicKey(pem: string): KeyObject {
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== 'ed25519')
    throw new Error(`the cloud key must be Ed25519, not ${key.asymmetricKeyType}`);
  return key;
}

export function configSignedFields(e: {
  version: unknown;
  issuedAt: unknown;
  doc: unknown;
}): Record<string, unknown> {
  return { version: e.version, issuedAt: e.issuedAt, doc: e.doc };
}

export function commandSignedFields(c: {
  cmdId: unknown;
  name: unknown;
  args: unknown;
  issuedAt: unknown;
  expiresAt: unknown;
}): Record<string, unknown> {
  return { cmdId: c.cmdId, name: c.name, args: c.args, issuedAt: c.issuedAt, expiresAt: c.expiresAt };
}
