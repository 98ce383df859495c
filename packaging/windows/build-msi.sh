#!/usr/bin/env bash
# Builds teamsync.msi from a cross-built teamsync.exe with msitools' wixl (Debian: wixl).
#   packaging/windows/build-msi.sh TEAMSYNC_EXE OUT.msi
# e.g. after `cargo build --release --target x86_64-pc-windows-gnu -p teamsync-cli`:
#   packaging/windows/build-msi.sh target/x86_64-pc-windows-gnu/release/teamsync.exe teamsync.msi
# scripts/windows/test.sh builds one from the debug exe and installs it under Wine.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exe=$(realpath "${1:?usage: build-msi.sh TEAMSYNC_EXE OUT.msi}")
out=${2:?usage: build-msi.sh TEAMSYNC_EXE OUT.msi}
[ -f "$exe" ] || { echo "build-msi.sh: no such file: $exe" >&2; exit 1; }
# The workspace version (MSI versions are numeric: a pre-release suffix is dropped).
version=$(sed -nE '/^\[workspace.package\]/,/^\[/ s/^version *= *"([0-9]+\.[0-9]+\.[0-9]+).*"/\1/p' "$here/../../Cargo.toml")
[ -n "$version" ] || { echo "build-msi.sh: no version in Cargo.toml" >&2; exit 1; }
out=$(realpath -m "$out")
# wixl takes sources relative to the folder it runs in: stage them in one.
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp "$exe" "$stage/teamsync.exe"
cp "$here/teamsync.wxs" "$here/teamsync.sample.toml" "$here/teamsync-task.xml" "$stage/"
(cd "$stage" && wixl --arch x64 -D Version="$version" -o "$out" teamsync.wxs)
echo "built $out (teamsync $version)"
