#!/usr/bin/env bash
# Installs what the Samba AD DC fixture (scripts/fixtures/samba.sh) and sync-ldap's AD tests need:
# the AD DC (samba, samba-ad-dc, samba-ad-provision (the schema files provisioning reads; only
# a Recommends, so --no-install-recommends would skip it), samba-dsdb-modules, python3-samba for
# samba-tool, winbind),
# ldb-tools (ldbsearch/ldbmodify), ldap-utils (ldapsearch, ldapadd, ldapmodify), iproute2 and
# util-linux (ip, unshare, nsenter: the DC runs in its own network namespace) and socat (which
# forwards the DC's LDAP ports from that namespace to the host's loopback).
#
# Idempotent and non-interactive: `apt-get update` runs only when something is missing.
set -euo pipefail

need=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for pkg in samba samba-ad-dc samba-ad-provision samba-dsdb-modules python3-samba winbind ldb-tools ldap-utils \
           iproute2 util-linux socat; do
  have_pkg "$pkg" || need+=("$pkg")
done

if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  # Debian's postinst scripts would start system smbd/nmbd/samba daemons on the host's ports
  # unless a policy-rc.d forbids it; the fixture runs its own DC, so forbid it for this install
  # when the machine does not already (a Docker image usually ships one).
  policy=/usr/sbin/policy-rc.d
  made_policy=
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    made_policy=1
  fi
  cleanup() { if [ -n "$made_policy" ]; then rm -f "$policy"; fi; }
  trap cleanup EXIT
  # Another fixture's installer may hold the dpkg lock: wait for it instead of failing.
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
exit 0
