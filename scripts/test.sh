#!/usr/bin/env bash
# The one command that runs every test on a fresh machine (README's test command; .ci/run calls it).
#
# 1. installs what the tests need (scripts/deps/*.sh: Debian and Python packages), idempotently;
# 2. starts the live fixtures (scripts/fixtures/*.sh start STATE_DIR: a real slapd, a real Samba
#    AD DC), each writing STATE_DIR/<name>.env with the variables its tests read;
# 3. runs the gates (rustfmt, clippy -D warnings, rustdoc -D warnings, mypy stubtest), then the
#    Rust tests (cargo nextest), the Windows leg (cross-built, under Wine) and the Python tests
#    (pytest);
# 4. stops the fixtures, whatever happened.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/teamsync-target}
state=$(mktemp -d "${TMPDIR:-/tmp}/teamsync-fixtures.XXXXXX")
export TEAMSYNC_FIXTURE_STATE=$state

fixtures=()
stop_fixtures() {
  local f
  for f in "${fixtures[@]}"; do
    bash "$f" stop "$state" || echo "warning: $f stop failed" >&2
  done
}
trap stop_fixtures EXIT

echo "== installing dependencies"
for dep in scripts/deps/*.sh; do
  [ -e "$dep" ] || continue
  echo "-- $dep"
  bash "$dep"
done

echo "== starting fixtures"
for f in scripts/fixtures/*.sh; do
  [ -e "$f" ] || continue
  echo "-- $f"
  fixtures+=("$f")
  bash "$f" start "$state"
done
for envfile in "$state"/*.env; do
  [ -e "$envfile" ] || continue
  set -a; . "$envfile"; set +a
done

echo "== gates: format, lints, docs, Python stubs"
cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings
# Libraries only: the `teamsync` binary and the `teamsync` library would share one doc path.
RUSTDOCFLAGS=-Dwarnings cargo doc --workspace --no-deps --lib --quiet
# The hand-written stubs (_native.pyi) against the built extension (installed by
# scripts/deps/python-binding.sh, which also installs mypy): a gate, every mismatch fails the
# suite. The allowlist holds only what cannot match, each entry with its reason.
if ! python3 -m mypy.stubtest teamsync --allowlist bindings-python/stubtest-allowlist.txt >"$state/stubtest.txt" 2>&1; then
  cat "$state/stubtest.txt" >&2
  echo "stubtest: $(grep -c '^error' "$state/stubtest.txt") mismatch(es) between bindings-python/python/teamsync/_native.pyi and the extension (above)" >&2
  exit 1
fi

echo "== Rust tests"
cargo nextest run --workspace --no-fail-fast
# nextest does not run doc tests; the crate docs' examples must compile and pass too.
cargo test --workspace --doc --quiet

# The Windows leg: the cross-built test programs under Wine and the MSI (scripts/windows/test.sh;
# it skips with one loud line when the Windows target cannot be installed). Bounded: a hung Wine
# cannot hold the suite past this.
echo "== Windows tests (under Wine)"
timeout --kill-after=30 "${TEAMSYNC_WINDOWS_LEG_TIMEOUT:-1500}" bash scripts/windows/test.sh

echo "== Python tests"
# One pytest run per suite: each tests-py folder has its own conftest.py and fixtures of the
# same names (an `emulator` of the Dropbox emulator, of the Graph emulator, of teamsync's own),
# which must not see each other. Every suite runs; the step fails if any failed.
python_failed=()
for d in */tests-py; do
  [ -d "$d" ] || continue
  echo "-- $d"
  python3 -m pytest -q -p no:cacheprovider "$d" || python_failed+=("$d")
done
if [ ${#python_failed[@]} -gt 0 ]; then
  echo "Python suites failed: ${python_failed[*]}" >&2
  exit 1
fi
