#!/usr/bin/env bash
# aiosmtpd (PyPI): the real SMTP server sync-cli's notification tests send mail to (plain,
# STARTTLS and implicit TLS). Idempotent and quiet: does nothing when the module imports.
set -euo pipefail

python=${PYTHON:-python3}

if "$python" -c 'import aiosmtpd' >/dev/null 2>&1; then
  exit 0
fi

if ! "$python" -m pip --version >/dev/null 2>&1; then
  if ! apt-get install -y -qq python3-pip >/dev/null 2>&1; then
    apt-get update -qq >/dev/null
    apt-get install -y -qq python3-pip >/dev/null
  fi
fi

pip_args=(install --quiet --disable-pip-version-check --root-user-action=ignore)
# Debian's system python is "externally managed" (PEP 668).
if "$python" -c 'import sys, sysconfig, os; sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")) else 1)'; then
  pip_args+=(--break-system-packages)
fi
"$python" -m pip "${pip_args[@]}" 'aiosmtpd>=1.4,<2'
