#!/usr/bin/env bash
# Runs the benchmarks of the earlier issues for two commits side by side, in one run, so that a
# refactor can show it changed nothing beyond noise.
#
#   bash tests/bench-compare.sh BASE [HEAD]        # HEAD defaults to the working tree's HEAD
#   PUENTE_COMPARE_BENCHES="issue3 issue4" bash tests/bench-compare.sh BASE
#
# Each commit is checked out in a temporary worktree and its benchmark binaries are built in
# release (one shared target directory, one build after the other, the binaries copied out);
# then every benchmark runs for BASE, then HEAD, then BASE and HEAD again, so a drift of the
# machine during the run shows up as a difference between the two runs of one commit. The
# output of every run is kept in $PUENTE_COMPARE_OUT (default target/bench-compare/).
# Long: about 45 minutes for everything on two cores; the default set leaves out issue2's
# 100 000-offer section (PUENTE_BENCH_SIZES=10000) and issue9_scale's 70-node size.
set -euo pipefail

base_rev=${1:?usage: bench-compare.sh BASE [HEAD]}
head_rev=${2:-HEAD}
root=$(git rev-parse --show-toplevel)
out=${PUENTE_COMPARE_OUT:-$root/target/bench-compare}
benches=${PUENTE_COMPARE_BENCHES:-"apply issue2 issue3 issue4 issue9 issue9_scale"}
rounds=${PUENTE_COMPARE_ROUNDS:-2}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}

work=$(mktemp -d)
cleanup() {
    for side in base head; do
        git -C "$root" worktree remove --force "$work/$side" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

build() { # side rev
    local side=$1 rev=$2
    git -C "$root" worktree add --detach --quiet "$work/$side" "$rev"
    mkdir -p "$out/$side/bin"
    (cd "$work/$side" && cargo build --release --locked -p puente --bin puente >/dev/null)
    cp "$CARGO_TARGET_DIR/release/puente" "$out/$side/bin/puente"
    # The executables cargo built for each benchmark, copied out before the other side's build
    # reuses their names.
    (cd "$work/$side" && cargo bench --locked --workspace --no-run --message-format=json 2>/dev/null) |
        python3 -c '
import json, sys, shutil, os
dest = sys.argv[1]
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") == "compiler-artifact" and m.get("executable") and "bench" in m["target"]["kind"]:
        shutil.copy2(m["executable"], os.path.join(dest, m["target"]["name"]))
' "$out/$side/bin"
    git -C "$work/$side" rev-parse --short HEAD >"$out/$side/rev"
}

mkdir -p "$out"
echo "building $base_rev and $head_rev (release) ..."
build base "$base_rev"
build head "$head_rev"
echo "base $(cat "$out/base/rev"), head $(cat "$out/head/rev"); output in $out"

for bench in $benches; do
    for round in $(seq 1 "$rounds"); do
        for side in base head; do
            bin="$out/$side/bin/$bench"
            [ -x "$bin" ] || { echo "no benchmark $bench for $side"; continue; }
            log="$out/$bench.$side.$round.txt"
            echo "== $bench $side round $round"
            start=$(date +%s)
            # A benchmark finds the relay binary beside its own target directory, or here.
            # Sizes the benchmark is run at (its own defaults unless set here).
            case $bench in
            issue2) sizes=${PUENTE_COMPARE_ISSUE2_SIZES:-10000} ;;
            issue9_scale) sizes=${PUENTE_COMPARE_SCALE_SIZES:-10,20,40} ;;
            *) sizes= ;;
            esac
            if ! env ${sizes:+PUENTE_BENCH_SIZES=$sizes} PUENTE_BENCH_RELAY_BIN="$out/$side/bin/puente" \
                "$bin" --bench >"$log" 2>&1; then
                echo "   FAILED (see $log)"
            fi
            echo "   $(($(date +%s) - start)) s, $log"
        done
    done
done
