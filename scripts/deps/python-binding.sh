#!/usr/bin/env bash
# The Python package `teamsync` (bindings-python): installs the build and test tools (maturin,
# pytest, mypy) when missing, then builds the extension and installs it into python3, so that
# bindings-python/tests-py can `import teamsync`.
#
# Idempotent and quiet: the tools are installed once; the build is incremental (cargo), so a
# second run only re-packs the wheel. A debug build: it compiles in a fraction of the release
# time, and the tests measure behaviour, not speed.
#
# `--auditwheel skip`: the extension links the system's MIT Kerberos (teamsync-ldap's gssapi
# feature); a wheel for this machine's own tests needs no manylinux repair (nor patchelf).
#
# Own target dir (TEAMSYNC_PY_TARGET_DIR, default ~/.cache/teamsync-pytarget): maturin builds
# with other flags than the workspace build, and a separate dir does not wait on its lock.
set -euo pipefail
cd "$(dirname "$0")/../.."

. scripts/lib/pip.sh

# mypy >= 1.18: the stubs mark the subclassable native classes @disjoint_base (PEP 800), which
# older stubtest neither requires nor knows.
if ! "$python" -c 'import maturin, pytest, mypy.version as v, sys; sys.exit(tuple(map(int, v.__version__.split("+")[0].split(".")[:2])) < (1, 18))' >/dev/null 2>&1; then
  pip_install 'maturin>=1.7,<2' 'mypy>=1.18' 'pytest>=7'
fi

export CARGO_TARGET_DIR=${TEAMSYNC_PY_TARGET_DIR:-$HOME/.cache/teamsync-pytarget}
wheels=$CARGO_TARGET_DIR/teamsync-wheels
rm -rf "$wheels"
start=$(date +%s)
mkdir -p "$CARGO_TARGET_DIR"
log=$CARGO_TARGET_DIR/teamsync-build.log
if ! "$python" -m maturin build --manifest-path bindings-python/Cargo.toml --interpreter "$python" --auditwheel skip --out "$wheels" >"$log" 2>&1; then
  cat "$log" >&2
  echo "python-binding: building the extension failed (log above)" >&2
  exit 1
fi
pip_install --force-reinstall --no-deps "$wheels"/teamsync-*.whl
echo "python-binding: built and installed teamsync in $(( $(date +%s) - start )) s" >&2
