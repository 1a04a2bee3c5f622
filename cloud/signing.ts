import { type KeyObject, sign } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { canonicalJson } from '../src/offline/chain.js';

export interface ConfigEnvelope {
  version: number;
  issuedAt: string;
  doc: Record<string, unknown>;
  sig: string;
}

export type SignedCommand = {
  cmdId: string;
  name: string;
  args: Record<string, unknown>;
  issuedAt: string;
  expiresAt: string;
  sig: string;
};

/** Ed25519 over the canonical JSON of the signed fields (mqtt-v1: config and commands). */
function signature(key: KeyObject, fields: Record<string, unknown>): string {
  return sign(null, Buffer.from(canonicalJson(fields), 'utf8'), key).toString('base64');
}

/** A config envelope for `P/down/config` and `config.current`. */
export function signConfigEnvelope(
  key: KeyObject,
  version: number,
  doc: Record<string, unknown>,
): ConfigEnvelope {
  const issuedAt = new Date().toISOString();
  return { version, issuedAt, doc, sig: signature(key, { version, issuedAt, doc }) };
}

/** A command envelope for `P/down/cmd`, valid for `ttlSeconds`. */
export function signCommand(
  key: KeyObject,
  name: string,
  args: Record<string, unknown>,
  ttlSeconds: number,
): SignedCommand {
  const cmdId = uuidv7();
  const issuedAt = new Date().toISOString();
  const expiresAt = new Date(Date.now() + ttlSeconds * 1000).toISOString();
  return {
    cmdId,
    name,
    args,
    issuedAt,
    expiresAt,
    sig: signature(key, { cmdId, name, args, issuedAt, expiresAt }),
  };
}
