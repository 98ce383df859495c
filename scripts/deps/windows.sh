#!/usr/bin/env bash
# The Windows leg's tools (scripts/windows/test.sh): the x86_64-pc-windows-gnu Rust target, the
# mingw-w64 C compiler and linker, Wine (64-bit) to run the test programs, and msitools' wixl to
# build the MSI. Idempotent and quiet when everything is there. Never fails the suite: whatever
# cannot be installed, scripts/windows/test.sh reports in one loud line and skips.
set -uo pipefail

target=x86_64-pc-windows-gnu
if command -v rustup >/dev/null && ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
  echo "installing the Rust target $target"
  rustup target add "$target" || echo "warning: rustup target add $target failed; the Windows leg will be skipped" >&2
fi

# package -> a file it installs
declare -A wanted=(
  [gcc-mingw-w64-x86-64]=/usr/bin/x86_64-w64-mingw32-gcc
  [wine64]=/usr/lib/wine/wine64
  [msitools]=/usr/bin/msiinfo
  [wixl]=/usr/bin/wixl
)
missing=()
for package in "${!wanted[@]}"; do
  [ -e "${wanted[$package]}" ] || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "warning: cannot install ${missing[*]} (needs root and apt-get); the Windows leg will be skipped" >&2
  exit 0
fi
echo "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Other jobs may hold the dpkg lock for a while: wait for it instead of failing.
apt=(apt-get -o DPkg::Lock::Timeout=600 -qq)
if ! "${apt[@]}" install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
  "${apt[@]}" update >/dev/null 2>&1 || true
  "${apt[@]}" install -y --no-install-recommends "${missing[@]}" >/dev/null ||
    echo "warning: apt-get install ${missing[*]} failed; the Windows leg will be skipped" >&2
fi
exit 0
