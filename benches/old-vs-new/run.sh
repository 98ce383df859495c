#!/usr/bin/env bash
# Old planner against the new one, in one binary.
#
#   benches/old-vs-new/run.sh REV compare [CASES]      # random worlds + generated worlds: plans byte for byte
#   benches/old-vs-new/run.sh REV callgrind [USERS]    # instruction counts: old, new, baseline (one run)
#   benches/old-vs-new/run.sh REV callgrind-rules [USERS]  # old and new with the rules bench's rules, new without
#   benches/old-vs-new/run.sh REV time [USERS] [ROUNDS]    # wall time, interleaved rounds, medians
#
# REV is the commit whose sync-core is "old" (e.g. main). The copy is extracted with git archive
# into benches/old-vs-new/old/ and renamed teamsync-core-old, so both link into one program.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
rev="${1:?usage: run.sh REV compare|callgrind [N]}"
mode="${2:-compare}"
shift 2 || true
rm -rf "$here/old"
mkdir -p "$here/old"
git -C "$repo" archive "$rev" Cargo.toml Cargo.lock sync-core | tar -x -C "$here/old"
# The old copy is its own one-member workspace, its package renamed.
python3 - "$here/old" <<'PY'
import re, sys, pathlib
root = pathlib.Path(sys.argv[1])
ws = (root / "Cargo.toml").read_text()
ws = re.sub(r"members = \[[^\]]*\]", 'members = ["sync-core"]', ws, count=1)
(root / "Cargo.toml").write_text(ws)
core = root / "sync-core" / "Cargo.toml"
text = core.read_text().replace('name = "teamsync-core"', 'name = "teamsync-core-old"', 1)
core.write_text(text)
PY
cp "$repo/Cargo.lock" "$here/Cargo.lock"
cd "$here"
cargo build --release --quiet
bin="${CARGO_TARGET_DIR:-$here/target}/release/teamsync-old-vs-new"
case "$mode" in
  compare) "$bin" compare "$@" ;;
  time) "$bin" time "$@" ;;
  callgrind|callgrind-rules)
    what=profile
    [ "$mode" = callgrind-rules ] && what=profile-rules
    out="$(mktemp -d)/callgrind.out"
    valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" "$what" "$@"
    callgrind_annotate --inclusive=yes "$out" | grep -E 'old_vs_new::run_' | sed 's/ \[.*//' ;;
  *) echo "unknown mode $mode" >&2; exit 2 ;;
esac
