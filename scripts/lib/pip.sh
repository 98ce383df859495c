# Sourced by scripts/deps/*.sh: `pip_install SPEC...` installs Python packages into the
# machine's python3 (${PYTHON:-python3}), quietly.
#
# Debian's python3 ships without pip: it is installed from apt first (apt-get update only when
# the install fails without it). Debian's system python is "externally managed" (PEP 668) and a
# CI machine has no venv for us, so --break-system-packages is added where that marker exists.

python=${PYTHON:-python3}

pip_install() {
  if ! "$python" -m pip --version >/dev/null 2>&1; then
    if ! apt-get install -y -qq python3-pip >/dev/null 2>&1; then
      apt-get update -qq >/dev/null
      apt-get install -y -qq python3-pip >/dev/null
    fi
  fi
  local args=(install --quiet --disable-pip-version-check --root-user-action=ignore)
  if "$python" -c 'import sys, sysconfig, os; sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")) else 1)'; then
    args+=(--break-system-packages)
  fi
  "$python" -m pip "${args[@]}" "$@"
}
