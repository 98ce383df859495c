#!/usr/bin/env bash
# aiosmtpd (PyPI): the real SMTP server sync-cli's notification tests send mail to (plain,
# STARTTLS and implicit TLS). Idempotent and quiet: does nothing when the module imports.
set -euo pipefail

. "$(dirname "$0")/../lib/pip.sh"

if "$python" -c 'import aiosmtpd' >/dev/null 2>&1; then
  exit 0
fi
pip_install 'aiosmtpd>=1.4,<2'
