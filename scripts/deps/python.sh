#!/usr/bin/env bash
# Python packages the pytest suites need: pytest, and Dropbox's own SDK (`dropbox` on PyPI),
# which sync-dropbox-emulator/tests-py drives against the emulator as a fidelity check.
# Idempotent and quiet: does nothing when the modules already import.
set -euo pipefail

python=${PYTHON:-python3}

if "$python" -c 'import pytest, dropbox' >/dev/null 2>&1; then
  exit 0
fi

if ! "$python" -m pip --version >/dev/null 2>&1; then
  # Debian's python3 ships without pip; install it from apt (update only when needed).
  if ! apt-get install -y -qq python3-pip >/dev/null 2>&1; then
    apt-get update -qq >/dev/null
    apt-get install -y -qq python3-pip >/dev/null
  fi
fi

pip_args=(install --quiet --disable-pip-version-check --root-user-action=ignore)
# Debian's system python is "externally managed" (PEP 668); a CI machine has no venv for us.
if "$python" -c 'import sys, sysconfig, os; sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")) else 1)'; then
  pip_args+=(--break-system-packages)
fi
"$python" -m pip "${pip_args[@]}" 'pytest>=7' 'dropbox>=12,<13'
