#!/usr/bin/env bash
# Installs what the OpenLDAP fixture (scripts/fixtures/slapd.sh) and sync-ldap's tests need:
# slapd, ldap-utils (ldapsearch, ldapmodify) and openssl. Idempotent and non-interactive.
#
# Debian's slapd postinst configures and starts a system slapd on port 389; the fixture never
# uses it (it runs its own slapd on a free loopback port), so we stop it to free resources.
set -euo pipefail

need=()
command -v slapd >/dev/null 2>&1 || [ -x /usr/sbin/slapd ] || need+=(slapd)
command -v ldapsearch >/dev/null 2>&1 || need+=(ldap-utils)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
[ -e /usr/lib/ldap/ppolicy.so ] || [ -e /usr/lib/ldap/ppolicy.la ] || need+=(slapd)

if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  # Preseed so the postinst does not ask questions; the password is for the unused system slapd.
  echo "slapd slapd/no_configuration boolean true" | debconf-set-selections 2>/dev/null || true
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# The postinst may have started a system slapd (no_configuration=true normally prevents it).
if [ -f /var/run/slapd/slapd.pid ]; then
  kill "$(cat /var/run/slapd/slapd.pid)" 2>/dev/null || true
fi
exit 0
