#!/bin/sh
# posd-accounts.service (after posd-provision.service, in the host's mount namespace): the root slot
# is read-only, so the technician's account tables that provision.mjs made in /run/posd-accounts are
# bind-mounted over /etc/passwd, shadow, group and gshadow. Once mounted, provision.mjs rewrites
# them in place.
set -eu
for f in passwd shadow group gshadow; do
  src=/run/posd-accounts/$f
  [ -f "$src" ] || continue
  if findmnt -rn --mountpoint "/etc/$f" >/dev/null; then continue; fi
  mount --bind "$src" "/etc/$f"
  echo "posd-accounts: /etc/$f from $src"
done
