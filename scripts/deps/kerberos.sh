#!/usr/bin/env bash
# Installs what sync-ldap's `gssapi` feature (SASL GSSAPI binds: ldap3 -> cross-krb5 -> libgssapi)
# and its Kerberos tests need on Debian:
#   libkrb5-dev   MIT Kerberos headers and libgssapi_krb5.so, which libgssapi-sys links against;
#   libclang-dev  libclang and clang's own headers, for the bindgen run in libgssapi-sys's build;
#   krb5-user     kinit / klist / kdestroy, which the tests use to make and inspect credential
#                 caches (an expired ticket, a keytab login).
# At run time only libgssapi-krb5-2 is needed (already on every Debian system that has Samba or
# OpenSSH with GSSAPI).
#
# Idempotent and non-interactive: `apt-get update` runs only when something is missing.
set -euo pipefail

need=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for pkg in libkrb5-dev libclang-dev krb5-user; do
  have_pkg "$pkg" || need+=("$pkg")
done

if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  # Another fixture's installer may hold the dpkg lock: wait for it instead of failing.
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
exit 0
