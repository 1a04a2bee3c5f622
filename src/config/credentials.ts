import { join } from 'node:path';

// A secret given to the daemon by systemd (`LoadCredential=`), named in the config as
// `credential:NAME`: the file is `$CREDENTIALS_DIRECTORY/NAME`, readable by the service alone, while
// the source stays root-only (docs/security.md "The device key"). Anyone else who loads the config
// (`posd doctor` as the technician) is not given it, by design.

export const CREDENTIAL_PREFIX = 'credential:';
const NAME = /^[A-Za-z0-9_.-]{1,255}$/;

export type CredentialPath = { path: string } | { absent: string } | { problem: string };

/** `credential:NAME` → its file in the credentials directory; anything else is a plain path. */
export function credentialPath(value: string, env: NodeJS.ProcessEnv): CredentialPath {
  if (!value.startsWith(CREDENTIAL_PREFIX)) return { path: value };
  const name = value.slice(CREDENTIAL_PREFIX.length);
  if (!NAME.test(name) || name === '.' || name === '..') {
    return { problem: `${value}: a credential name is letters, digits, _ . or -` };
  }
  const dir = env.CREDENTIALS_DIRECTORY;
  if (!dir) {
    return {
      absent: `${value}: a systemd credential, and this process has none (only posd.service is given it)`,
    };
  }
  return { path: join(dir, name) };
}
