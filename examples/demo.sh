#!/usr/bin/env bash
# The puente demo: a partner organisation's node, created in a temporary directory, loaded with
# the example data set of the Sacramento region, answering coordinator questions from DOMAIN.md.
# Everything it creates is removed when it exits. The passphrase below is for this demo only.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> building puente (release)"
cargo build --release --locked --quiet -p puente
PUENTE="$PWD/target/release/puente"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
chmod 700 "$work"
export PUENTE_DATA_DIR="$work/sac-accompaniment"
printf 'correct horse battery staple (demo only)\n' > "$work/passphrase"
chmod 600 "$work/passphrase"
p() { "$PUENTE" --passphrase-file "$work/passphrase" "$@"; }
say() { printf '\n==> %s\n' "$*"; }
run() { printf '$ puente'; printf ' %q' "$@"; printf '\n'; p "$@"; }

say "create a node for one partner organisation (identity + encrypted store)"
run init --org "Sacramento Accompaniment Network" --county 06067 --county 06113 \
    --intake "hotline 24/7, ask for the housing desk"

say "check a spreadsheet before importing it: every rejected row says why, nothing is written"
run import examples/data/bad-rows.csv --dry-run || true

say "import the example data set (six organisations' offers, about 200 rows)"
for f in examples/data/*.csv; do
    case "$f" in *bad-rows.csv) continue ;; esac
    run import "$f"
done

say "Who can host a trans woman in Sacramento County next week, Spanish-speaking?"
run query --kind host-home --county 06067 --accepts trans-women --lang es --from +7d --to +14d --limit 8

say "Which bond funds can post at least \$5k within 48 hours?"
run query --kind bond-fund --min-usd 5000 --post-within 48h

say "Who has Mam or K'iche' interpretation, in person or by phone?"
run query --kind interpretation --lang mam --lang quc --limit 8

say "Confidential shelter bed tonight for a survivor with two children, Sacramento or Yolo"
run query --kind dv-confidential-shelter --county 06067 --county 06113 \
    --accepts families-with-children --from todayT20:00 --to +1dT08:00 --qty 3

say "the data directory holds only ciphertext: a search for a handle finds nothing"
if grep -rq "host-" "$PUENTE_DATA_DIR"; then echo "plaintext found!"; exit 1; else echo "no plaintext found in $PUENTE_DATA_DIR"; fi

say "done; the temporary node is removed"
