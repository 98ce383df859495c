#!/usr/bin/env bash
# Debian's chromium: the real browser the plan report test (teamsync/tests/report_browser.rs)
# loads `teamsync plan --report` pages in, headless, to screenshot them and check the DOM and
# the filter box. Idempotent and non-interactive: does nothing when chromium is on PATH.
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
