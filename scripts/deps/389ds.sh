#!/usr/bin/env bash
# 389 Directory Server (Debian's 389-ds-base, with dscreate/dsctl from python3-lib389) for the
# 389-DS fixture (scripts/fixtures/389ds.sh). Idempotent: nothing happens when it is installed.
set -euo pipefail
if command -v dscreate >/dev/null 2>&1 && command -v ns-slapd >/dev/null 2>&1; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -qq 389-ds-base >/dev/null 2>&1; then
  apt-get update -qq >/dev/null
  apt-get install -y -qq 389-ds-base >/dev/null
fi
