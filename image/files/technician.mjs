// The technician login (user tech) for provision.mjs: account rows in /etc/passwd, shadow, group and
// gshadow, its home, and the reset marker the technician leaves on the device itself.
//
// The root slot is mounted read-only (docs/security.md "The terminal on the counter"): with
// POSD_PROVISION_ACCOUNTS set (the unit sets /run/posd-accounts), the edited tables are written
// there instead, and posd-accounts.service bind-mounts each over its /etc file (accounts-mount.sh).
// Every boot starts again from the slot's own tables, so nothing the device writes outlives a boot
// but the kept hash.
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

export const TECH = { name: 'tech', uid: 1000, gid: 1000, groups: ['systemd-journal', 'posd'] };
// crypt(3): SHA-512 ($6$, optional rounds=) or yescrypt ($y$params$salt$hash).
export const HASH = [
  /^\$6\$(rounds=\d{4,9}\$)?[./0-9A-Za-z]{1,16}\$[./0-9A-Za-z]{86}$/,
  /^\$y\$[./0-9A-Za-z]+\$[./0-9A-Za-z]{1,86}\$[./0-9A-Za-z]{43}$/,
];
/** A technician reset allows one unsigned provisioning file for this long after it was made. */
export const RESET_VALID_MS = 24 * 3600_000;

export function accounts({ sysroot, etc, accountsDir }) {
  const techHash = join(etc, 'technician.hash');
  const techDir = join(etc, 'technician');
  const resetFile = join(techDir, 'allow-provisioning');

  /** Rewrites a colon-separated account file, keeping its owner and mode; false when unchanged. */
  function editTable(file, edit) {
    const path = join(sysroot, file);
    const st = statSync(path);
    const before = readFileSync(path, 'utf8');
    const rows = before
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.split(':'));
    edit(rows);
    const after = `${rows.map((r) => r.join(':')).join('\n')}\n`;
    if (accountsDir) {
      // In place (the bind mount holds the inode): a tmpfs file, rebuilt at every boot.
      const target = join(accountsDir, file.split('/').pop());
      if (existsSync(target) && readFileSync(target, 'utf8') === after) return false;
      const fd = openSync(target, 'w', st.mode & 0o7777);
      writeSync(fd, after);
      closeSync(fd);
      chmodSync(target, st.mode & 0o7777);
      chownSync(target, st.uid, st.gid);
      return true;
    }
    if (after === before) return false;
    const tmp = `${path}.posd-provision`;
    const fd = openSync(tmp, 'w', st.mode & 0o7777);
    writeSync(fd, after);
    fsyncSync(fd);
    closeSync(fd);
    chmodSync(tmp, st.mode & 0o7777);
    chownSync(tmp, st.uid, st.gid);
    renameSync(tmp, path);
    return true;
  }

  const row = (rows, name) => rows.find((r) => r[0] === name);

  function members(rows, extraField) {
    for (const r of rows) {
      if (extraField && r.length < 4) continue;
      const list = (r[3] ?? '').split(',').filter(Boolean);
      const want = TECH.groups.includes(r[0]);
      const has = list.includes(TECH.name);
      if (want && !has) list.push(TECH.name);
      if (!want && has) list.splice(list.indexOf(TECH.name), 1);
      r[3] = list.join(',');
    }
  }

  /** Creates or updates the technician account with this hash (idempotent). */
  function apply(hash) {
    const shell = existsSync(join(sysroot, 'bin/bash')) ? '/bin/bash' : '/bin/sh';
    const home = `/home/${TECH.name}`;
    editTable('etc/group', (rows) => {
      for (const g of TECH.groups) if (!row(rows, g)) throw new Error(`group ${g} missing in /etc/group`);
      const own = row(rows, TECH.name);
      if (own) own[2] = String(TECH.gid);
      else {
        if (rows.some((r) => r[2] === String(TECH.gid))) throw new Error(`gid ${TECH.gid} is taken`);
        rows.push([TECH.name, 'x', String(TECH.gid), '']);
      }
      members(rows, false);
    });
    if (existsSync(join(sysroot, 'etc/gshadow'))) {
      editTable('etc/gshadow', (rows) => {
        if (!row(rows, TECH.name)) rows.push([TECH.name, '!', '', '']);
        members(rows, true);
      });
    }
    editTable('etc/passwd', (rows) => {
      const entry = [TECH.name, 'x', String(TECH.uid), String(TECH.gid), 'posd technician', home, shell];
      const own = row(rows, TECH.name);
      if (own) own.splice(0, own.length, ...entry);
      else {
        if (rows.some((r) => r[2] === String(TECH.uid))) throw new Error(`uid ${TECH.uid} is taken`);
        rows.push(entry);
      }
    });
    editTable('etc/shadow', (rows) => {
      const own = row(rows, TECH.name);
      const days = String(Math.floor(Date.now() / 86_400_000));
      if (own) {
        if (own[1] !== hash) {
          own[1] = hash;
          own[2] = days;
        }
      } else rows.push([TECH.name, hash, days, '0', '99999', '7', '', '', '']);
    });
    const homeDir = join(sysroot, home);
    if (!existsSync(homeDir)) {
      mkdirSync(homeDir, { recursive: true, mode: 0o700 });
      chownSync(homeDir, TECH.uid, TECH.gid);
    }
    // Where the technician leaves a reset (posd-provisioning-reset): theirs alone, beside the config.
    if (!existsSync(techDir)) mkdirSync(techDir, { mode: 0o700 });
    chmodSync(techDir, 0o700);
    chownSync(techDir, TECH.uid, TECH.gid);
  }

  /** No technician in the provisioning file: the kept hash and any reset go, the account is locked. */
  function lock() {
    rmSync(techHash, { force: true });
    rmSync(techDir, { recursive: true, force: true });
    if (!existsSync(join(sysroot, 'etc/shadow'))) return false;
    let locked = false;
    editTable('etc/shadow', (rows) => {
      const own = row(rows, TECH.name);
      if (own && own[1] !== '!') {
        own[1] = '!';
        locked = true;
      }
    });
    return locked;
  }

  /**
   * A reset the technician made on the device (a regular file, theirs or root's, made within
   * RESET_VALID_MS): `{at}` when valid. An expired or odd one is removed.
   */
  function resetAllowed(now = Date.now()) {
    let st;
    try {
      st = lstatSync(resetFile);
    } catch {
      return undefined;
    }
    const fresh = st.mtimeMs <= now + 5 * 60_000 && now - st.mtimeMs <= RESET_VALID_MS;
    if (!st.isFile() || ![0, TECH.uid].includes(st.uid) || !fresh) {
      rmSync(resetFile, { force: true });
      return undefined;
    }
    return { at: new Date(st.mtimeMs).toISOString() };
  }

  const consumeReset = () => rmSync(resetFile, { force: true });

  return { techHash, techDir, resetFile, apply, lock, resetAllowed, consumeReset };
}
