#!/usr/bin/env bash
# Python packages the pytest suites need: pytest; Dropbox's own SDK (`dropbox` on PyPI),
# which sync-dropbox-emulator/tests-py drives against the emulator as a fidelity check; and
# prometheus_client, whose text-format parser reads `teamsync --metrics-file` output in
# bindings-python/tests-py/test_teamsync_history.py.
# Idempotent and quiet: does nothing when the modules already import.
set -euo pipefail

. "$(dirname "$0")/../lib/pip.sh"

if "$python" -c 'import pytest, dropbox, prometheus_client' >/dev/null 2>&1; then
  exit 0
fi
pip_install 'pytest>=7' 'dropbox>=12,<13' 'prometheus_client>=0.20,<1'
