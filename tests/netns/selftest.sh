#!/usr/bin/env bash
# tests/netns/selftest.sh -- proves that tests/netns/lib.sh builds a real NAT
# topology and always tears it down.
#
#   internet (inet, 203.0.113.1) + relay host 203.0.113.10
#   home a: WAN 203.0.113.21, LAN 198.51.100.0/28,  host .2,  NAT keep
#   home b: WAN 203.0.113.22, LAN 198.51.100.16/28, host .18, NAT random
#   home c: WAN 203.0.113.23, LAN 198.51.100.32/28, host .34, NAT keep
#
# Checks: (1) A's host reaches the relay over TCP and UDP; (2) the relay sees
# A from A's WAN address with the host's own source port (keep) and B from B's
# WAN address with another port (random); (3) nothing unsolicited gets in;
# (4) a UDP hole punch works keep<->keep (a<->c), fails keep<->random (a<->b),
# and netns_cut_pair/heal_pair block/unblock it; (5) netns_cut stalls a live
# TCP connection and netns_heal revives it, the process never stopped;
# (6) captures work; (7) no namespace or process is left after a run that fails
# midway, one killed by SIGTERM, one by SIGINT, nor after this one's cleanup.
#
# Run as root: bash tests/netns/selftest.sh (about 25 s). Exit 0 when every
# check passes, 77 when skipped (not root, no netns; one line says why),
# 1 otherwise ("selftest: FAILED: <first failure>"). The last line is
# "N passed, M failed". Logs of a failed run stay in the directory it names.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"

netns_init
netns_require python3:python3 || _netns_skip "python3 is missing and could not be installed"
PY=$(python3 -c 'import sys; print(sys.executable)') || _netns_skip "python3 does not run"
TOOL=$HERE/nettool.py
RELAY=203.0.113.10
WAN_A=203.0.113.21 WAN_B=203.0.113.22 WAN_C=203.0.113.23
LAN_A=198.51.100.2
PASS=0 FAIL=0 FIRST=

echo "selftest: prefix $NETNS_PREFIX, iptables variant: $NETNS_IPT ($("$NETNS_IPT" --version 2>&1))"

ok() {
    PASS=$((PASS + 1))
    printf 'ok   %s\n' "$*"
}
bad() {
    FAIL=$((FAIL + 1))
    printf 'FAIL %s\n' "$*"
    [ -n "$FIRST" ] || FIRST=$*
}
finish() {
    [ "$FAIL" -eq 0 ] || echo "selftest: FAILED: $FIRST"
    echo "selftest: took $SECONDS s"
    echo "$PASS passed, $FAIL failed"
    [ "$FAIL" -eq 0 ] && exit 0
    exit 1
}
die() {
    bad "setup: $*"
    finish
}
tool() { # NS ARGS...: nettool.py inside NS
    local ns=$1
    shift
    netns_exec "$ns" "$PY" "$TOOL" "$@"
}
seen_of() { sed -n 's/^local [0-9]* seen \([0-9.]*:[0-9]*\).*/\1/p' <<<"$1"; }

# ------------------------------------------------------------------ topology
netns_internet || die "netns_internet"
netns_host relay $RELAY || die "netns_host relay"
netns_home a $WAN_A 198.51.100.0/28 keep || die "netns_home a"
netns_home b $WAN_B 198.51.100.16/28 random || die "netns_home b"
netns_home c $WAN_C 198.51.100.32/28 keep || die "netns_home c"
echo "selftest: topology up in ${SECONDS}s: $(netns_list | sed "s/^$NETNS_PREFIX//" | sort | tr '\n' ' ')"

netns_bg relay "$NETNS_DIR/relay.log" "$PY" "$TOOL" serve --tcp 7000 --udp 7000
RELAY_PID=$NETNS_BG_PID
netns_bg a-host "$NETNS_DIR/a-serve.log" "$PY" "$TOOL" serve --tcp 8080 --udp 8080
netns_wait_for "$NETNS_DIR/relay.log" '^ready' 10 || die "relay server did not start"
netns_wait_for "$NETNS_DIR/a-serve.log" '^ready' 10 || die "A's server did not start"

# ------------------------------------------------------------------ (1)
if out=$(tool a-host tcp-probe $RELAY 7000); then
    ok "1a A's host reaches the relay over TCP ($out)"
else
    bad "1a A's host cannot reach the relay over TCP: $out"
fi
if out=$(tool a-host udp-probe $RELAY 7000); then
    ok "1b A's host reaches the relay over UDP ($out)"
else
    bad "1b A's host cannot reach the relay over UDP: $out"
fi

# ------------------------------------------------------------------ (2)
# nat_check ID HOME WAN HOSTADDR PROTO PORT MODE
nat_check() {
    local id=$1 home=$2 wan=$3 hostaddr=$4 proto=$5 port=$6 mode=$7 out seen sip sport logged
    if ! out=$(tool "$home-host" "$proto-probe" $RELAY 7000 --bind-port "$port"); then
        bad "$id $home ($mode) $proto probe failed: $out"
        return
    fi
    seen=$(seen_of "$out")
    sip=${seen%:*} sport=${seen#*:}
    logged=no
    grep -q "^$proto from $seen\b" "$NETNS_DIR/relay.log" && logged=yes
    local what="$proto: host $hostaddr:$port -> relay saw $seen (relay log: $logged)"
    if [ "$sip" != "$wan" ] || [ "$logged" != yes ]; then
        bad "$id $home ($mode) not NATed to its WAN $wan: $what"
    elif [ "$mode" = keep ] && [ "$sport" != "$port" ]; then
        bad "$id $home (keep) changed the source port: $what"
    elif [ "$mode" = random ] && [ "$sport" = "$port" ]; then
        bad "$id $home (random) kept the source port: $what"
    else
        ok "$id $home ($mode) $what"
    fi
}
nat_check 2a a $WAN_A $LAN_A tcp 41001 keep
nat_check 2b a $WAN_A $LAN_A udp 41002 keep
nat_check 2c b $WAN_B 198.51.100.18 tcp 42001 random
nat_check 2d b $WAN_B 198.51.100.18 udp 42002 random

# ------------------------------------------------------------------ (3)
if out=$(tool a-host tcp-probe 127.0.0.1 8080); then
    ok "3a control: A's host serves TCP+UDP 8080 (via 127.0.0.1: $out)"
else
    bad "3a control: A's own server on 8080 is not reachable on 127.0.0.1: $out"
fi
# All unsolicited attempts at once (each waits for its timeout).
declare -A UNSOL=(
    [3b]="tcp-probe $LAN_A 8080"
    [3c]="tcp-probe $WAN_A 8080"
    [3d]="tcp-probe $WAN_A 41001"
    [3e]="udp-probe $LAN_A 8080"
    [3f]="udp-probe $WAN_A 8080"
    [3g]="udp-probe $WAN_A 41002"
)
declare -A UNSOL_PID=()
for id in "${!UNSOL[@]}"; do
    # shellcheck disable=SC2086
    netns_bg relay "$NETNS_DIR/unsol.$id.log" "$PY" "$TOOL" ${UNSOL[$id]} --timeout 1.5
    UNSOL_PID[$id]=$NETNS_BG_PID
done
for id in $(printf '%s\n' "${!UNSOL[@]}" | sort); do
    netns_wait "${UNSOL_PID[$id]}" 10
    rc=$?
    out=$(tr '\n' ' ' <"$NETNS_DIR/unsol.$id.log")
    if [ "$rc" = 1 ]; then
        ok "$id relay -> ${UNSOL[$id]#*-probe } (${UNSOL[$id]%%-*}, unsolicited) fails: $out"
    else
        bad "$id relay -> ${UNSOL[$id]#*-probe } (${UNSOL[$id]%%-*}, unsolicited) rc=$rc: $out"
    fi
done
if grep -q "from $RELAY" "$NETNS_DIR/a-serve.log"; then
    bad "3h A's host received something from the relay: $(grep "from $RELAY" "$NETNS_DIR/a-serve.log" | head -1)"
else
    ok "3h A's host's server log shows nothing from the relay; inet route to $LAN_A: $(netns_exec inet ip -4 route get $LAN_A 2>&1 | head -1)"
fi

# ------------------------------------------------------------------ (4)
# punch ID X Y PORT DURATION EXPECT(ok|fail) [NOTE]: both hosts learn their
# observed address from the relay (UDP, from PORT), then send to each other's
# observed address at the same time.
punch() {
    local id=$1 x=$2 y=$3 port=$4 dur=$5 expect=$6 note=${7:-} ox oy sx sy px py rx ry lx ly
    ox=$(tool "$x-host" udp-probe $RELAY 7000 --bind-port "$port") || {
        bad "$id $x could not ask the relay: $ox"
        return
    }
    oy=$(tool "$y-host" udp-probe $RELAY 7000 --bind-port "$port") || {
        bad "$id $y could not ask the relay: $oy"
        return
    }
    sx=$(seen_of "$ox")
    sy=$(seen_of "$oy")
    netns_bg "$x-host" "$NETNS_DIR/punch.$id.$x.log" "$PY" "$TOOL" punch --bind-port "$port" --peer "$sy" --tag "$x" --duration "$dur"
    px=$NETNS_BG_PID
    netns_bg "$y-host" "$NETNS_DIR/punch.$id.$y.log" "$PY" "$TOOL" punch --bind-port "$port" --peer "$sx" --tag "$y" --duration "$dur"
    py=$NETNS_BG_PID
    netns_wait "$px" $((${dur%.*} + 10))
    rx=$?
    netns_wait "$py" $((${dur%.*} + 10))
    ry=$?
    lx=$(tr '\n' ' ' <"$NETNS_DIR/punch.$id.$x.log")
    ly=$(tr '\n' ' ' <"$NETNS_DIR/punch.$id.$y.log")
    local what="$x (seen $sx): $lx| $y (seen $sy): $ly"
    if [ "$expect" = ok ]; then
        if [ "$rx" = 0 ] && [ "$ry" = 0 ] && [[ $lx == "received from $sy:"* ]] && [[ $ly == "received from $sx:"* ]]; then
            ok "$id hole punch $x<->$y${note} succeeds: $what"
        else
            bad "$id hole punch $x<->$y${note} should succeed (rc $rx/$ry): $what"
        fi
    else
        if [ "$rx" = 1 ] && [ "$ry" = 1 ]; then
            ok "$id hole punch $x<->$y${note} fails both ways: $what"
        else
            bad "$id hole punch $x<->$y${note} should fail (rc $rx/$ry): $what"
        fi
    fi
}
punch 4a a c 43001 4 ok " (keep+keep)"
punch 4b a b 43002 2 fail " (keep+random)"
netns_cut_pair a c || bad "4c netns_cut_pair a c failed"
punch 4c a c 43003 2 fail " (keep+keep, after netns_cut_pair a c)"
netns_heal_pair a c || bad "4d netns_heal_pair a c failed"
punch 4d a c 43003 4 ok " (keep+keep, after netns_heal_pair a c)"

# ------------------------------------------------------------------ (5)
STREAM_LOG=$NETNS_DIR/stream.log
netns_bg a-host "$STREAM_LOG" "$PY" "$TOOL" stream $RELAY 7000 --interval 0.1 --lifetime 60
STREAM_PID=$NETNS_BG_PID
echoes() { grep -c '^echo ' "$STREAM_LOG"; }
if ! netns_wait_for "$STREAM_LOG" '^echo 5$' 10; then
    bad "5a the TCP stream A -> relay did not start: $(tr '\n' ' ' <"$STREAM_LOG" | head -c 200)"
else
    ok "5a TCP stream A -> relay running ($(echoes) echoes, $(head -1 "$STREAM_LOG"))"
    RULES_BEFORE=$(netns_ipt a-router -S)
    netns_cut a || bad "5b netns_cut a failed"
    sleep 0.5 # what was in flight arrives
    n1=$(echoes)
    sleep 2
    n2=$(echoes)
    if [ "$n1" = "$n2" ] && netns_alive "$STREAM_PID"; then
        ok "5b after netns_cut a: no echo for 2 s (stuck at $n2), the process runs on"
    else
        bad "5b after netns_cut a: echoes $n1 -> $n2 in 2 s (alive: $(netns_alive "$STREAM_PID" && echo yes || echo no))"
    fi
    if out=$(tool a-host tcp-probe $RELAY 7000 --timeout 1); then
        bad "5c a new connection from A got through the cut: $out"
    else
        ok "5c while cut, a new TCP connection from A fails too ($out)"
    fi
    netns_heal a || bad "5d netns_heal a failed"
    t0=$SECONDS
    healed=
    while ((SECONDS - t0 < 15)); do
        if [ "$(echoes)" -gt $((n2 + 5)) ]; then
            healed=1
            break
        fi
        sleep 0.1
    done
    n3=$(echoes)
    conns=$(grep -c '^connected' "$STREAM_LOG")
    errs=$(grep -c '^error' "$STREAM_LOG")
    last=$(grep '^echo ' "$STREAM_LOG" | tail -1)
    if [ -n "$healed" ] && netns_alive "$STREAM_PID" && [ "$conns" = 1 ] && [ "$errs" = 0 ]; then
        ok "5d after netns_heal a: echoes flow again within $((SECONDS - t0)) s ($n2 -> $n3, last '$last'), same connection, same process"
    else
        bad "5d after netns_heal a: echoes $n2 -> $n3 in $((SECONDS - t0)) s, connections $conns, errors $errs, alive $(netns_alive "$STREAM_PID" && echo yes || echo no)"
    fi
    RULES_AFTER=$(netns_ipt a-router -S)
    if [ "$RULES_AFTER" = "$RULES_BEFORE" ]; then
        ok "5e netns_heal removed exactly the cut rules (a-router's filter table is as before the cut, $(grep -c '^-A' <<<"$RULES_AFTER") rules)"
    else
        bad "5e a-router's rules differ after heal: $(diff <(echo "$RULES_BEFORE") <(echo "$RULES_AFTER") | tr '\n' ' ')"
    fi
fi
netns_kill "$STREAM_PID"

# netns_kill stops a process and what it started; it leaves foreign pids alone.
netns_bg c-host "$NETNS_DIR/tree.log" sh -c 'sleep 300 & sleep 301 & echo started; wait'
TREE_PID=$NETNS_BG_PID
netns_wait_for "$NETNS_DIR/tree.log" '^started' 5
TREE=$(ip netns pids "$(netns_name c-host)" | xargs)
netns_kill "$TREE_PID"
sleep 0.2
TREE_LEFT=
for p in $TREE; do netns_alive "$p" && TREE_LEFT+="$p "; done
if [ -z "$TREE_LEFT" ] && [ "$(wc -w <<<"$TREE")" -ge 3 ] && ! netns_alive "$STREAM_PID" && ! netns_kill $$ 2>/dev/null; then
    ok "5f netns_kill stopped the stream client and a shell with 2 children ($TREE), and refused to kill a pid outside the run's namespaces"
else
    bad "5f netns_kill: left '$TREE_LEFT' of '$TREE', stream alive: $(netns_alive "$STREAM_PID" && echo yes || echo no)"
fi

# ------------------------------------------------------------------ (6) capture
PCAP=$NETNS_DIR/relay.pcap
MARK="plaintext-marker-$$"
if netns_capture relay eth0 "$PCAP"; then
    tool a-host udp-probe $RELAY 7000 --payload "$MARK" >/dev/null
    tool b-host tcp-probe $RELAY 7000 >/dev/null
    netns_capture_stop
    pkts=$(tcpdump -r "$PCAP" -n 2>/dev/null | wc -l)
    marks=$(tcpdump -r "$PCAP" -n -A 2>/dev/null | grep -c "$MARK")
    lan=$(tcpdump -r "$PCAP" -n 2>/dev/null | grep -c '198\.51\.100\.')
    if [ "$pkts" -gt 0 ] && [ "$marks" -gt 0 ] && [ "$lan" = 0 ]; then
        ok "6  capture on relay eth0: $pkts packets, the UDP payload is readable in it ($marks hits), no LAN address on the wire"
    else
        bad "6  capture on relay eth0: $pkts packets, marker hits $marks, LAN addresses $lan"
    fi
else
    bad "6  netns_capture relay eth0 failed"
fi

# ------------------------------------------------------------------ (7) cleanup
# subrun ID MODE SIGNAL EXPECTED_RC
subrun() {
    local id=$1 mode=$2 sig=$3 want=$4 st p rc prefix left alive n pids
    st=$NETNS_DIR/sub.$id
    if [ "$mode" = fail ]; then
        env -u NETNS_PREFIX -u NETNS_DIR bash "$HERE/cleanup_probe.sh" fail "$st" >"$st.out" 2>&1
        rc=$?
    else
        # bash starts background commands with SIGINT ignored (and this
        # script may itself run with it ignored): give the sub-run the
        # default dispositions back, as a script run from a terminal has.
        "$PY" -c 'import os, signal, sys
for s in (signal.SIGINT, signal.SIGTERM):
    signal.signal(s, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])' \
            env -u NETNS_PREFIX -u NETNS_DIR bash "$HERE/cleanup_probe.sh" wait "$st" >"$st.out" 2>&1 &
        p=$!
        netns_wait_for "$st" '^ready' 15 || bad "$id sub-run never got ready: $(tr '\n' ' ' <"$st.out")"
        kill "-$sig" "$p"
        netns_wait "$p" 15
        rc=$?
    fi
    prefix=$(awk '$1 == "prefix" {print $2}' "$st" 2>/dev/null)
    pids=$(awk '$1 == "pid" {print $2}' "$st" 2>/dev/null)
    n=$(wc -w <<<"$pids")
    [ -n "$prefix" ] || {
        bad "$id sub-run ($mode $sig) wrote no state: $(tr '\n' ' ' <"$st.out")"
        return
    }
    left=$(ip netns list | awk '{print $1}' | grep -F -- "$prefix" | tr '\n' ' ')
    for _ in $(seq 20); do # orphans are reaped by init a moment later
        alive=
        for p in $pids; do netns_alive "$p" && alive+="$p "; done
        [ -z "$alive" ] && break
        sleep 0.1
    done
    rm -rf "$(awk '$1 == "dir" {print $2}' "$st")"
    if [ "$rc" = "$want" ] && [ -z "$left" ] && [ -z "$alive" ] && [ "$n" -ge 5 ]; then
        ok "$id sub-run ${prefix} ($mode${sig:+, SIG$sig}) exited $rc; none of its namespaces nor its $n processes is left"
    else
        bad "$id sub-run ${prefix} ($mode $sig): rc $rc (want $want), namespaces left: '$left', processes left: '$alive' of $n"
    fi
}
subrun 7a fail "" 3
subrun 7b wait TERM 143
subrun 7c wait INT 130

netns_cleanup
left=$(netns_list | tr '\n' ' ')
if [ -z "$left" ] && ! netns_alive "$RELAY_PID"; then
    ok "7d netns_cleanup removed all of this run's namespaces and processes (ip netns list: $(ip netns list | grep -c -- "$NETNS_PREFIX") of ${NETNS_PREFIX}*)"
else
    bad "7d left after netns_cleanup: '$left', relay server alive: $(netns_alive "$RELAY_PID" && echo yes || echo no)"
fi
if netns_cleanup; then
    ok "7e netns_cleanup again is a no-op"
else
    bad "7e a second netns_cleanup failed"
fi

finish
