import { readFileSync } from 'node:fs';

/**
 * The id of this boot: tells a posd restart from a reboot. posd.service passes systemd's `%b` as
 * `BOOT_ID` (32 hex digits), because its `ProcSubset=pid` hides /proc/sys from posd; elsewhere the
 * kernel's own. Either way as the kernel writes it (8-4-4-4-12).
 */
export function currentBootId(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const fromUnit = /^([0-9a-f]{8})([0-9a-f]{4})([0-9a-f]{4})([0-9a-f]{4})([0-9a-f]{12})$/.exec(
    (env.BOOT_ID ?? '').trim().toLowerCase(),
  );
  if (fromUnit) return fromUnit.slice(1).join('-');
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
