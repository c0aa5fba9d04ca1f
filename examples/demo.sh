#!/usr/bin/env bash
# The puente demo: three partner organisations of the Sacramento region on this machine, each
# with its own node, data directory and port on 127.0.0.1, and a relay (with its blind
# mailbox) on 127.0.0.1 as a rented server would run it. The first founds a network, admits it
# at the relay and invites the other two (each invitation checked with its safety phrase, then
# confirmed); each publishes its part of the example data set; then coordinators ask questions
# on one node and get offers from all three. Last, the mailbox at work: River Refuge withdraws
# an offer and stops its node; Yolo Trans Health starts later, never at the same time, and sees
# the change. Everything it creates is removed, and every node stopped, when it exits. The
# passphrase below is for this demo only.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> building puente (release)"
cargo build --release --locked --quiet -p puente
PUENTE="${CARGO_TARGET_DIR:-$PWD/target}/release/puente"

work="$(mktemp -d)"
chmod 700 "$work"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
printf 'correct horse battery staple (demo only)\n' > "$work/passphrase"
chmod 600 "$work/passphrase"

say() { printf '\n==> %s\n' "$*"; }
# `as ORG puente ARGS...`: runs puente on ORG's data directory and shows the command.
as() {
    local org="$1"; shift
    printf '[%s] $ puente' "$org"; printf ' %q' "$@"; printf '\n'
    "$PUENTE" --data-dir "$work/$org" --passphrase-file "$work/passphrase" "$@"
}
quiet() { local org="$1"; shift; "$PUENTE" --data-dir "$work/$org" --passphrase-file "$work/passphrase" "$@"; }
# Polls a condition for up to 60 s.
until_true() {
    local what="$1"; shift
    for _ in $(seq 600); do "$@" && return 0; sleep 0.1; done
    echo "timed out waiting for $what" >&2; exit 1
}
# Starts ORG's node on a free port of 127.0.0.1 and waits for its control socket.
start_node() {
    local org="$1"
    printf '[%s] $ puente run --listen /ip4/127.0.0.1/tcp/0 &\n' "$org"
    "$PUENTE" --data-dir "$work/$org" --passphrase-file "$work/passphrase" \
        run --listen /ip4/127.0.0.1/tcp/0 > "$work/$org.log" 2>&1 &
    pids+=("$!")
    until_true "$org's node to start" grep -q "^Listening on" "$work/$org.log"
    sed -n 's/^Listening on /    listening on /p' "$work/$org.log"
}
# Invites ORG_NAME from sac's node, has DIR join, checks the phrase and confirms.
invite_and_join() {
    local dir="$1" name="$2"
    say "$name is invited: a single-use token, sent by Signal in real life"
    printf '[sac] $ puente invite create --org %q --expires-in 2h\n' "$name"
    token="$(quiet sac invite create --org "$name" --expires-in 2h 2>/dev/null)"
    echo "    ${token:0:60}... (${#token} characters)"
    printf '[%s] $ puente join TOKEN &\n' "$dir"
    quiet "$dir" join "$token" --wait 5m > "$work/$dir.join" 2>&1 &
    local join_pid=$!
    until_true "$name to ask to join" sh -c \
        "'$PUENTE' --data-dir '$work/sac' invite list --format csv | grep -q 'waiting for confirmation'"
    grep 'Safety phrase' "$work/$dir.join" | sed "s/^/    [$dir] /"
    as sac invite list
    echo "    (the coordinators compare the four words over the phone: they match)"
    local id
    id="$(quiet sac invite list --format csv | awk -F, '$4=="waiting for confirmation" {print $1}')"
    as sac invite confirm "$id"
    wait "$join_pid"
    sed -n 's/^Joined/    [&/p' "$work/$dir.join" | sed "s/\[Joined/[$dir] Joined/"
}

say "three partner organisations create their nodes (identity + encrypted store each)"
as sac init --org "Sacramento Accompaniment Network" --county 06067 --county 06113 \
    --intake "hotline 24/7, ask for the housing desk" | grep fingerprint
as river init --org "River Refuge" --county 06067 --county 06113 \
    --intake "shelter intake line, ask for the on-call advocate" | grep fingerprint
as yolo init --org "Yolo Trans Health" --county 06113 --county 06067 \
    --intake "Signal the front desk" | grep fingerprint

say "Sacramento Accompaniment founds the network"
as sac network create --name "Sacramento Valley Rapid Response"

say "a relay for partners behind home routers (a small rented server in real life)"
printf '[sac] $ puente relay ticket\n'
ticket="$(quiet sac relay ticket 2>/dev/null)"
echo "    ${ticket:0:60}... (sent to whoever runs the relay)"
printf '[relay] $ puente relay --listen /ip4/127.0.0.1/tcp/0 --admit TICKET &\n'
"$PUENTE" relay --relay-dir "$work/relay" --listen /ip4/127.0.0.1/tcp/0 --admit "$ticket" \
    > "$work/relay.log" 2>&1 &
pids+=("$!")
until_true "the relay to start" grep -q "puente relay add" "$work/relay.log"
sed -n 's/^Listening on /    listening on /p' "$work/relay.log"
relay_addr="$(sed -n 's/^ *puente relay add //p' "$work/relay.log" | head -n 1)"
as sac relay add "$relay_addr"

say "Sacramento Accompaniment starts its node"
start_node sac
until_true "sac's node to reserve a slot at the relay" sh -c \
    "'$PUENTE' --data-dir '$work/sac' status --format json | grep -q '\"reserved\": true'"

invite_and_join river "River Refuge"
invite_and_join yolo "Yolo Trans Health"

say "the two new members start their nodes (each knows only the founder's address)"
start_node river
start_node yolo

say "each organisation publishes its own part of the example data set, on its own node"
as sac import examples/data/sac-accompaniment.csv
as river import examples/data/river-refuge.csv
as yolo import examples/data/yolo-trans-health.csv

say "waiting until the founder's node holds all three organisations' offers"
has_all() {
    local s
    s="$(quiet sac status --format json)"
    grep -q '"River Refuge"' <<<"$s" && grep -q '"Yolo Trans Health"' <<<"$s" \
        && grep -q '"Sacramento Accompaniment Network"' <<<"$s"
}
until_true "the offers to arrive" has_all
as sac status

say "Who can host a trans woman in Sacramento or Yolo County next week, Spanish-speaking?"
as sac query --kind host-home --county 06067 --county 06113 --accepts trans-women --lang es \
    --from +7d --to +14d --limit 8

say "Who can drive someone to an ICE check-in, or see them for counselling, this week?"
as sac query --kind transport-driver --kind mental-health --from today --to +7d --limit 10

say "Who has Mam or K'iche' interpretation, in person or by phone?"
as sac query --kind interpretation --lang mam --lang quc --limit 8

say "Confidential shelter bed tonight for a survivor with two children (asked on Yolo's node)"
as yolo query --kind dv-confidential-shelter --county 06067 --county 06113 \
    --accepts families-with-children --from todayT20:00 --to +1dT08:00 --qty 3

say "the data directories hold only ciphertext: a search for a handle finds nothing"
if grep -rq "host-" "$work/sac" "$work/river" "$work/yolo"; then
    echo "plaintext found!"; exit 1
else
    echo "no plaintext found in any of the three data directories"
fi

say "stopping the three nodes (the relay keeps running)"
node_pids=("${pids[@]:1}")
for pid in "${node_pids[@]}"; do kill -TERM "$pid"; done
for pid in "${node_pids[@]}"; do wait "$pid"; done
pids=("${pids[0]}")
tail -q -n 1 "$work/sac.log" "$work/river.log" "$work/yolo.log" | sed 's/^/    /'

say "the mailbox: River Refuge and Yolo Trans Health are never online at the same time"
offer_id="$(quiet river offer list --mine --format csv | awk -F, 'NR==2 {print $1}')"
printf '[river] morning: the room of offer %s was taken\n' "$offer_id"
start_node river
as river offer withdraw "$offer_id" --yes
deposited() {
    local s
    s="$(quiet river status --format json)"
    grep -Eq '"deposited": [1-9]' <<<"$s" && grep -q '"pending": 0' <<<"$s"
}
until_true "River Refuge's change to reach the relay's mailbox" deposited
as river status | sed -n '/^RELAY/,/^$/p'
kill -TERM "${pids[1]}"; wait "${pids[1]}"; pids=("${pids[0]}")
echo "    [river] node stopped"
printf '[yolo] evening: Yolo Trans Health starts its node; River Refuge is offline\n'
start_node yolo
withdrawn() {
    quiet yolo offer show "$offer_id" --format json | grep -q '"withdrawn": true'
}
until_true "the withdrawal to arrive from the mailbox" withdrawn
as yolo offer show "$offer_id" | head -n 4
echo "    (it came through the relay's mailbox, which holds only what it cannot read)"
kill -TERM "${pids[1]}"; wait "${pids[1]}"; pids=("${pids[0]}")

say "the relay's data directory holds only ciphertext too"
if grep -rqE "host-|River Refuge|Yolo Trans|Sacramento" "$work/relay"; then
    echo "plaintext found!"; exit 1
else
    echo "no handle, organisation or network name in the relay's data directory"
fi

say "done; the temporary nodes are removed"
