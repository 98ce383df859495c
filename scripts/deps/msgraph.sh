#!/usr/bin/env bash
# Microsoft's own Graph SDK for Python (`msgraph-sdk`, with `azure-identity`), which
# sync-graph-emulator/tests-py drives against the Graph emulator as a fidelity check.
# Idempotent and quiet: does nothing when the modules already import.
set -euo pipefail

. "$(dirname "$0")/../lib/pip.sh"

if "$python" -c 'import pytest, msgraph, azure.identity, requests' >/dev/null 2>&1; then
  exit 0
fi
pip_install 'pytest>=7' 'requests>=2' 'msgraph-sdk>=1.20,<2' 'azure-identity>=1.19,<2'
