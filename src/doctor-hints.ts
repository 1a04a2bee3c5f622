/**
 * What a failed check means for the technician and what to do next, instead of a bare errno.
 * Each entry: the meaning (shown beside the code) and the action (shown on the hint line).
 */
export type HintPlace = 'device-file' | 'tcp' | 'broker' | 'state-dir' | 'ledger';

interface Hint {
  meaning: string;
  action: string;
}

const COMMON: Record<string, Hint> = {
  EACCES: {
    meaning: 'permission denied',
    action: 'this user may not use it: run as the posd user (runuser -u posd -- posd doctor)',
  },
  EPERM: {
    meaning: 'operation not permitted',
    action: 'this user may not use it: run as the posd user (runuser -u posd -- posd doctor)',
  },
  EROFS: {
    meaning: 'read-only file system',
    action: 'the data partition is mounted read-only (disk errors?): check `mount` and the journal',
  },
  ENOSPC: { meaning: 'disk full', action: 'free space on the data partition (df -h)' },
  EIO: {
    meaning: 'input/output error',
    action: 'the storage or the device is failing: check the journal (dmesg)',
  },
};

const BY_PLACE: Record<HintPlace, Record<string, Hint>> = {
  'device-file': {
    ENOENT: {
      meaning: 'no such device',
      action: 'is it plugged in and switched on? `ls -l /dev/posd-*` shows what udev found',
    },
    ENXIO: { meaning: 'device gone', action: 'unplug and plug it in again' },
    ENODEV: { meaning: 'device gone', action: 'unplug and plug it in again' },
    EBUSY: { meaning: 'in use by another program', action: 'stop the other program (`fuser -v PATH`)' },
    EACCES: {
      meaning: 'permission denied',
      action:
        'run as the posd user (runuser -u posd -- posd doctor), or check the udev rule gives group posd',
    },
  },
  tcp: {
    ECONNREFUSED: {
      meaning: 'connection refused: nothing listens there',
      action: 'is the printer on and on the network? check the address and port in printer.uri',
    },
    EHOSTUNREACH: { meaning: 'host unreachable', action: 'check the cable, the IP address and the network' },
    ENETUNREACH: {
      meaning: 'network unreachable',
      action: 'this terminal has no route there: check its network',
    },
    ETIMEDOUT: { meaning: 'no answer', action: 'wrong IP address, device off, or a firewall in between' },
    ENOTFOUND: { meaning: 'unknown host name', action: 'check the host name and the DNS settings' },
    EAI_AGAIN: { meaning: 'name lookup failed', action: 'DNS is not answering: check the network' },
    ECONNRESET: { meaning: 'connection dropped', action: 'the device closed it: power-cycle it' },
  },
  broker: {
    ECONNREFUSED: {
      meaning: 'connection refused: no broker listens there',
      action: 'is the broker running? check host and port in mqtt.url',
    },
    EHOSTUNREACH: {
      meaning: 'host unreachable',
      action: 'check the network; sales keep working offline meanwhile',
    },
    ENETUNREACH: {
      meaning: 'network unreachable',
      action: 'this terminal has no route there: check its network (sales keep working offline)',
    },
    ETIMEDOUT: { meaning: 'no answer', action: 'wrong host, or a firewall drops the port' },
    ENOTFOUND: {
      meaning: 'unknown host name',
      action: 'check the host name in mqtt.url and the DNS settings',
    },
    EAI_AGAIN: { meaning: 'name lookup failed', action: 'DNS is not answering: check the network' },
    ECONNRESET: {
      meaning: 'connection dropped',
      action: 'the broker closed it: check the broker and its TLS port',
    },
  },
  'state-dir': {
    ENOTDIR: { meaning: 'not a directory', action: 'stateDir names a file: fix stateDir in the config' },
    EACCES: {
      meaning: 'permission denied',
      action: 'this user cannot write it: run as the posd user (runuser -u posd -- posd doctor)',
    },
  },
  ledger: {
    SQLITE_CORRUPT: {
      meaning: 'the ledger file is damaged',
      action: 'do not delete it: keep a copy and see docs/operations.md before restarting posd',
    },
    SQLITE_NOTADB: {
      meaning: 'not a ledger file',
      action: 'do not delete it: keep a copy and see docs/operations.md before restarting posd',
    },
    SQLITE_CANTOPEN: {
      meaning: 'cannot open the ledger',
      action: 'this user may not read it: run as the posd user or a member of group posd',
    },
    SQLITE_BUSY: { meaning: 'the ledger is busy', action: 'run doctor again in a moment' },
  },
};

/** `{code, message}` of an error as Node or SQLite throws it. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** "permission denied (EACCES)" and the action, or the plain message where no hint is known. */
export function explain(place: HintPlace, err: unknown): { detail: string; hint?: string } {
  const code = errorCode(err);
  const hint = code ? (BY_PLACE[place][code] ?? COMMON[code]) : undefined;
  if (hint && code) return { detail: `${hint.meaning} (${code})`, hint: hint.action };
  const message = err instanceof Error ? err.message : String(err);
  return { detail: message };
}
