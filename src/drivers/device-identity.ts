import { existsSync } from 'node:fs';
import { readdir, realpath } from 'node:fs/promises';
import { basename, join } from 'node:path';

export const SERIAL_BY_ID = '/dev/serial/by-id';

/**
 * A serial device's stable name: its /dev/serial/by-id link (which carries the USB serial
 * number), found by resolving the configured path; else the node it resolves to. Undefined when
 * the path does not exist.
 */
export async function serialIdentity(path: string, byIdDir = SERIAL_BY_ID): Promise<string | undefined> {
  let real: string;
  try {
    real = await realpath(path);
  } catch {
    return undefined;
  }
  if (path.startsWith(`${byIdDir}/`)) return `by-id/${basename(path)}`;
  let names: string[] = [];
  try {
    names = await readdir(byIdDir);
  } catch {
    return real; // no USB serial devices, or not Linux
  }
  for (const name of names) {
    try {
      if ((await realpath(join(byIdDir, name))) === real) return `by-id/${name}`;
    } catch {
      // a dangling link from a device unplugged right now
    }
  }
  return real;
}

/** A device node (or a symlink to one, like a udev or socat link) is there. */
export function pathPresent(path: string): boolean {
  return existsSync(path);
}
