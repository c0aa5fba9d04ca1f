#!/usr/bin/env bash
# tests/netns/cleanup_probe.sh MODE STATEFILE -- a sub-run for selftest.sh
# check 6: builds a small topology, starts processes in it (one of them with a
# child of its own that nobody recorded), writes its prefix, run directory and
# every pid inside its namespaces to STATEFILE, then ends badly on purpose:
#   fail  a command fails under `set -e` midway (exit 1)
#   wait  prints "ready" to STATEFILE and waits (at most 20 s) for the
#         caller's SIGTERM or SIGINT
# The caller then checks that none of those namespaces or pids is left.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"
mode=$1 state=$2
netns_init
netns_internet
netns_host relay 203.0.113.10
netns_home a 203.0.113.21 198.51.100.0/28 keep
netns_bg relay "$NETNS_DIR/sleep.log" sleep 300
netns_bg a-host "$NETNS_DIR/sh.log" sh -c 'sleep 300 & sleep 301 & wait'
netns_bg a-router "$NETNS_DIR/cap.log" sleep 302
sleep 0.3 # let sh start its children
{
    echo "prefix $NETNS_PREFIX"
    echo "dir $NETNS_DIR"
    for n in $(netns_list); do
        for p in $(ip netns pids "$n"); do echo "pid $p $n"; done
    done
} >"$state"
case $mode in
fail)
    echo "cleanup_probe: failing on purpose midway" >&2
    netns_exec a-host sh -c 'exit 3' # set -e ends the script here
    echo "not reached" >>"$state"
    ;;
wait)
    echo ready >>"$state"
    sleep 20 &
    wait $! # a trapped signal interrupts wait at once
    ;;
esac
