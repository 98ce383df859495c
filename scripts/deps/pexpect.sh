#!/usr/bin/env bash
# pexpect: sync-cli/tests-py drives `teamsync init`'s questions through a real pty.
# Idempotent and quiet: does nothing when the module already imports.
set -euo pipefail

. "$(dirname "$0")/../lib/pip.sh"

if "$python" -c 'import pexpect' >/dev/null 2>&1; then
  exit 0
fi
pip_install 'pexpect>=4.8'
