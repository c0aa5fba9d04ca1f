# shellcheck shell=bash
# tests/netns/lib.sh -- a real NAT topology in Linux network namespaces.
#
# Sourced by scenario scripts (bash only):
#
#     . "$(dirname "$0")/lib.sh"
#     netns_init                     # root + tools check (exit 77 = skip), trap
#     netns_internet
#     netns_host relay 203.0.113.10
#     netns_home a 203.0.113.21 198.51.100.0/28  keep
#     netns_home b 203.0.113.22 198.51.100.16/28 random
#     netns_bg relay "$NETNS_DIR/relay.log" puente relay ...
#     netns_bg a-host "$NETNS_DIR/a.log" puente run ...
#     ... checks ...
#     # the EXIT/INT/TERM/HUP trap removes every namespace and process
#
# ADDRESS PLAN -- only the documentation ranges (RFC 5737), nothing else, ever:
#
#   203.0.113.0/24 (TEST-NET-3) = "the internet", routed by namespace `inet`
#     203.0.113.1          inet's address on every link (everyone's gateway)
#     203.0.113.2-19       public hosts (netns_host): relay = 203.0.113.10
#     203.0.113.20-254     home routers' WAN addresses: a=.21, b=.22, c=.23 ...
#   198.51.100.0/24 (TEST-NET-2) cut into /28 home LANs (the "private" side):
#     198.51.100.0/28      home a: router .1,  host .2
#     198.51.100.16/28     home b: router .17, host .18
#     198.51.100.32/28     home c: router .33, host .34
#     198.51.100.48/28 ... 198.51.100.240/28: homes d..p, same pattern
#   192.0.2.0/24 (TEST-NET-1): 16 more /28 LANs if ever needed (same pattern).
#   The router of a home takes LAN_PREFIX+1, its host LAN_PREFIX+2.
#   inet has routes only to the 203.0.113.x /32s it is linked to: nothing on
#   the internet can route to a LAN address. IPv6 is disabled on every veth
#   (only lo keeps ::1), so no link-local path bypasses the NATs.
#
# NAMESPACES (full name = per-run prefix + logical name; prefix pn<PID>-):
#   inet           the internet router (one point-to-point veth per attachment,
#                  named v-<NAME> there; ip_forward=1)
#   <NAME>         a public host (netns_host), interface eth0, default via .1
#   <NAME>-router  a home router: wan (203.0.113.x) + lan, ip_forward=1,
#                  filter policy INPUT/FORWARD DROP, only ESTABLISHED,RELATED
#                  comes in from wan, MASQUERADE out of wan
#   <NAME>-host    the single host behind it: eth0 = LAN_PREFIX+2, default via
#                  the router, no public address at all
#   Every function that takes NS accepts the logical name (a-host) or the full
#   name ($NETNS_PREFIX"a-host"). lo (127.0.0.1) is up in every namespace.
#   Nothing here touches the host's own interfaces, routes or iptables: veths
#   are created directly inside the namespaces (ip -n), iptables always runs
#   as `ip netns exec NS iptables ...`.
#
# FUNCTIONS
#   netns_init                       check root and `ip netns add` (else print
#                                    one line and exit 77), install missing
#                                    tools (iproute2 iptables tcpdump,
#                                    conntrack optional), pick a working
#                                    iptables variant ($NETNS_IPT), make the
#                                    run directory $NETNS_DIR, set the trap.
#                                    Call once, before anything else.
#   netns_require CMD:PKG ...        install PKG when CMD is missing (returns 1
#                                    when it still is missing).
#   netns_internet                   create `inet`.
#   netns_host NAME ADDR             public host NAME at ADDR (203.0.113.x).
#   netns_home NAME WAN_ADDR LAN_PREFIX NAT_MODE
#                                    home router NAME-router + host NAME-host;
#                                    NAT_MODE keep   = MASQUERADE (keeps the
#                                                      source port if it can)
#                                             random = MASQUERADE --random-fully
#   netns_exec NS CMD...             run CMD inside NS (foreground).
#   netns_bg NS LOGFILE CMD...       start CMD inside NS in the background,
#                                    stdout+stderr to LOGFILE, stdin
#                                    /dev/null; its pid is left in
#                                    $NETNS_BG_PID (call it directly, not in
#                                    $(...)).
#   netns_wait PID [TIMEOUT]         wait for a netns_bg process; returns its
#                                    exit status, 124 on timeout.
#   netns_kill PID                   TERM (then KILL after 2 s) PID and its
#                                    descendants -- only if PID lives in one of
#                                    this run's namespaces.
#   netns_alive PID                  true while PID runs.
#   netns_wait_for FILE REGEX [TIMEOUT]
#                                    wait until a line of FILE matches REGEX
#                                    (grep -E); default timeout 10 s.
#   netns_cut HOME / netns_heal HOME drop every packet between HOME's LAN (and
#                                    router) and the internet, in HOME-router:
#                                    FORWARD -i wan, FORWARD -o wan, INPUT -i
#                                    wan, OUTPUT -o wan DROP; heal deletes
#                                    exactly those four rules. Processes and
#                                    conntrack state stay; both idempotent.
#   netns_cut_pair X Y / netns_heal_pair X Y
#                                    drop only traffic between the public
#                                    addresses of X and Y (homes or hosts), in
#                                    inet's FORWARD chain.
#   netns_capture NS IFACE FILE      tcpdump -w FILE on IFACE inside NS (waits
#                                    until tcpdump listens); pid in
#                                    $NETNS_CAPTURE_PID.
#   netns_capture_stop [PID]         stop one capture or all (SIGINT, the file
#                                    is complete when this returns).
#   netns_name NS                    full namespace name.
#   netns_addr NS                    main IPv4 address of NS (inet:
#                                    203.0.113.1, host: its address,
#                                    X-router: WAN, X-host: LAN address).
#   netns_wan HOME                   WAN address of HOME's router.
#   netns_ipt NS ARGS...             the chosen iptables inside NS (with -w).
#   netns_list                       this run's namespaces, one a line.
#   netns_cleanup                    kill every process in this run's
#                                    namespaces, delete the namespaces (and so
#                                    every veth). Idempotent; the trap calls
#                                    it, scripts may call it earlier.
#
# VARIABLES: NETNS_PREFIX (pn<PID>-; if you set it yourself, make it unique:
#   cleanup removes every namespace that starts with it), NETNS_DIR (a fresh
#   /tmp directory for logs; removed on exit 0 unless NETNS_KEEP_DIR=1, kept
#   and named on stderr otherwise), NETNS_IPT (the iptables variant picked),
#   NETNS_IPTABLES (set before netns_init to try that variant first).
#
# NOTES
# - Safe under `set -eu` in the caller: the functions handle their own
#   failures and return non-zero only on a real error.
# - Cleanup kills every process inside the run's namespaces (ip netns pids),
#   not only what netns_bg recorded: also children, and `netns_exec ... &`.
# - If a scenario script sets its own EXIT trap it replaces this one: call
#   netns_cleanup from it. A script started with SIGINT ignored (a background
#   job of a non-interactive shell) cannot trap SIGINT; TERM and EXIT work.
# - NAT behaviour (kernel conntrack): keep = port-preserving MASQUERADE, so a
#   simultaneous UDP send between two keep homes punches a hole; random =
#   --random-fully, a new random port per destination, so it never does.
#   UDP mappings live 30 s unanswered, 120 s once answered (kernel defaults).

NETNS_GATEWAY=203.0.113.1
declare -gA NETNS_ADDR=()     # logical ns name -> main address
declare -gA NETNS_ROLE=()     # logical ns name -> inet|host|router|homehost
declare -ga NETNS_CAPTURES=()
NETNS_PREFIX=${NETNS_PREFIX:-}
NETNS_DIR= # set by netns_init, never taken from the environment
NETNS_IPT=
NETNS_BG_PID=
NETNS_CAPTURE_PID=
_NETNS_OWNER=
_NETNS_APT_UPDATED=

_netns_say() { printf 'netns: %s\n' "$*" >&2; }

_netns_skip() {
    printf 'SKIP: %s\n' "$*"
    exit 77
}

# ---------------------------------------------------------------- addresses

_netns_ip2int() {
    local IFS=. a b c d
    read -r a b c d <<<"$1"
    echo $(((a << 24) | (b << 16) | (c << 8) | d))
}

_netns_int2ip() {
    local n=$1
    echo "$(((n >> 24) & 255)).$(((n >> 16) & 255)).$(((n >> 8) & 255)).$((n & 255))"
}

_netns_is_ipv4() {
    [[ $1 =~ ^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$ ]] || return 1
    local i
    for i in 1 2 3 4; do ((BASH_REMATCH[i] <= 255)) || return 1; done
}

# _netns_in_range ADDR NET LEN: ADDR lies inside NET/LEN
_netns_in_range() {
    local a n m
    a=$(_netns_ip2int "$1")
    n=$(_netns_ip2int "$2")
    m=$(((0xffffffff << (32 - $3)) & 0xffffffff))
    (((a & m) == (n & m)))
}

# A documentation address (RFC 5737): the only ones this library will use.
_netns_doc_addr() {
    _netns_is_ipv4 "$1" || return 1
    _netns_in_range "$1" 192.0.2.0 24 || _netns_in_range "$1" 198.51.100.0 24 ||
        _netns_in_range "$1" 203.0.113.0 24
}

_netns_public_addr_ok() {
    local addr=$1 k
    if ! _netns_is_ipv4 "$addr" || ! _netns_in_range "$addr" 203.0.113.0 24; then
        _netns_say "public address $addr is not in 203.0.113.0/24"
        return 1
    fi
    case $addr in 203.0.113.0 | 203.0.113.1 | 203.0.113.255)
        _netns_say "public address $addr is reserved (network, inet gateway, broadcast)"
        return 1
        ;;
    esac
    for k in "${!NETNS_ADDR[@]}"; do
        if [ "${NETNS_ADDR[$k]}" = "$addr" ]; then
            _netns_say "address $addr already used by $k"
            return 1
        fi
    done
}

# ---------------------------------------------------------------- names

_netns_name_ok() {
    if ! [[ $1 =~ ^[a-z][a-z0-9]{0,9}$ ]]; then
        _netns_say "bad name '$1' (want [a-z][a-z0-9]{0,9})"
        return 1
    fi
}

# netns_name NS: the full namespace name of a logical name.
netns_name() {
    local -
    set +e
    case $1 in
    "$NETNS_PREFIX"*) printf '%s\n' "$1" ;;
    *) printf '%s\n' "$NETNS_PREFIX$1" ;;
    esac
}

_netns_logical() { printf '%s\n' "${1#"$NETNS_PREFIX"}"; }

# netns_addr NS: the main address of NS.
netns_addr() {
    local -
    set +e
    local l
    l=$(_netns_logical "$1")
    [ -n "${NETNS_ADDR[$l]:-}" ] || {
        _netns_say "no address known for $1"
        return 1
    }
    printf '%s\n' "${NETNS_ADDR[$l]}"
}

# netns_wan HOME: the WAN address of HOME's router.
netns_wan() { netns_addr "$1-router"; }

# The public (203.0.113.x) address of a home (its WAN) or a public host.
_netns_public_of() {
    local -
    set +e
    if [ -n "${NETNS_ADDR[$1-router]:-}" ]; then
        printf '%s\n' "${NETNS_ADDR[$1-router]}"
    elif [ "${NETNS_ROLE[$1]:-}" = host ]; then
        printf '%s\n' "${NETNS_ADDR[$1]}"
    else
        _netns_say "$1 is neither a home nor a public host"
        return 1
    fi
}

# netns_list: this run's namespaces (full names), one a line.
netns_list() {
    local -
    set +e
    [ -n "$NETNS_PREFIX" ] || return 0
    ip netns list 2>/dev/null | awk '{print $1}' | grep -F -- "$NETNS_PREFIX" |
        while read -r n; do case $n in "$NETNS_PREFIX"*) echo "$n" ;; esac; done
}

# ---------------------------------------------------------------- setup

# netns_require CMD:PKG ...: install the packages of missing commands.
netns_require() {
    local -
    set +e
    local spec cmd pkg missing=()
    for spec in "$@"; do
        cmd=${spec%%:*}
        pkg=${spec#*:}
        command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    command -v apt-get >/dev/null 2>&1 || {
        _netns_say "missing ${missing[*]} and no apt-get"
        return 1
    }
    local log=${NETNS_DIR:-/tmp}/apt.$$.log
    if [ -z "$_NETNS_APT_UPDATED" ]; then
        apt-get update -qq >"$log" 2>&1 || _netns_say "apt-get update failed (see $log)"
        _NETNS_APT_UPDATED=1
    fi
    _netns_say "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$log" 2>&1 || {
        _netns_say "apt-get install ${missing[*]} failed (see $log)"
        return 1
    }
    for spec in "$@"; do
        command -v "${spec%%:*}" >/dev/null 2>&1 || return 1
    done
    rm -f "$log"
}

# Pick an iptables variant that works inside namespace $1: nft first, legacy
# when nft is not usable there. Tries MASQUERADE --random-fully and a
# conntrack match, the two features the homes need.
_netns_pick_iptables() {
    local -
    set +e
    local ns=$1 cand
    for cand in ${NETNS_IPTABLES:-} iptables-nft iptables iptables-legacy; do
        command -v "$cand" >/dev/null 2>&1 || continue
        if ip netns exec "$ns" "$cand" -w -t nat -A POSTROUTING -o lo -j MASQUERADE --random-fully 2>/dev/null &&
            ip netns exec "$ns" "$cand" -w -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT 2>/dev/null &&
            ip netns exec "$ns" "$cand" -w -D FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT 2>/dev/null &&
            ip netns exec "$ns" "$cand" -w -t nat -F POSTROUTING 2>/dev/null; then
            NETNS_IPT=$cand
            return 0
        fi
    done
    return 1
}

# netns_init: see the header. Exits 77 (after one line) when this machine
# cannot run the topology.
netns_init() {
    local -
    set +e
    [ -n "$_NETNS_OWNER" ] && return 0
    if [ "$(id -u)" != 0 ]; then
        _netns_skip "network namespaces need root (running as uid $(id -u))"
    fi
    netns_require ip:iproute2 || _netns_skip "iproute2 (ip) is missing and could not be installed"
    if ! command -v iptables >/dev/null 2>&1 && ! command -v iptables-legacy >/dev/null 2>&1; then
        netns_require iptables:iptables || _netns_skip "iptables is missing and could not be installed"
    fi
    netns_require tcpdump:tcpdump || _netns_skip "tcpdump is missing and could not be installed"
    netns_require conntrack:conntrack 2>/dev/null || true # optional

    # A prefix no other run (nor a leftover of a killed one) uses.
    if [ -z "$NETNS_PREFIX" ]; then
        NETNS_PREFIX="pn$$-"
        if ip netns list 2>/dev/null | awk '{print $1}' | grep -q "^pn$$-"; then
            NETNS_PREFIX="pn$$r$RANDOM-"
        fi
    fi
    _NETNS_OWNER=$BASHPID
    trap '_netns_on_exit' EXIT
    trap '_netns_on_signal INT 130' INT
    trap '_netns_on_signal TERM 143' TERM
    trap '_netns_on_signal HUP 129' HUP

    local probe="${NETNS_PREFIX}probe" err
    if ! err=$(ip netns add "$probe" 2>&1); then
        _netns_skip "ip netns add is not permitted here: ${err//$'\n'/ }"
    fi
    if ! _netns_pick_iptables "$probe"; then
        ip netns del "$probe" 2>/dev/null
        _netns_skip "no iptables variant (nft or legacy) with nat MASQUERADE and conntrack works inside a namespace"
    fi
    ip netns del "$probe"
    NETNS_DIR=$(mktemp -d "/tmp/${NETNS_PREFIX}XXXXXX") || _netns_skip "cannot create a run directory in /tmp"
    : >"$NETNS_DIR/pids"
    return 0
}

_netns_on_exit() {
    local rc=$?
    local -
    set +e
    [ "$BASHPID" = "$_NETNS_OWNER" ] || return 0
    netns_cleanup
    if [ -n "$NETNS_DIR" ] && [ -d "$NETNS_DIR" ]; then
        if [ "$rc" = 77 ] || { [ "$rc" = 0 ] && [ "${NETNS_KEEP_DIR:-0}" != 1 ]; }; then
            rm -rf "$NETNS_DIR"
        else
            _netns_say "logs kept in $NETNS_DIR"
        fi
    fi
    exit "$rc"
}

_netns_on_signal() {
    local -
    set +e
    [ "$BASHPID" = "$_NETNS_OWNER" ] || exit "$2"
    _netns_say "caught SIG$1, cleaning up"
    netns_cleanup
    exit "$2" # the EXIT trap runs too (a no-op by then, apart from the logs)
}

_netns_sysctl() { # NS KEY VALUE (written in /proc/sys of that namespace)
    ip netns exec "$1" sh -c "echo $3 > /proc/sys/${2//.//}"
}

# _netns_new LOGICAL ROLE: make one namespace, lo up, forwarding per role.
_netns_new() {
    local -
    set +e
    local l=$1 role=$2 ns
    ns=$(netns_name "$l")
    [ -n "$_NETNS_OWNER" ] || {
        _netns_say "call netns_init first"
        return 1
    }
    if ip netns list | awk '{print $1}' | grep -qxF -- "$ns"; then
        _netns_say "namespace $ns already exists"
        return 1
    fi
    ip netns add "$ns" || return 1
    NETNS_ROLE[$l]=$role
    ip -n "$ns" link set lo up || return 1
    # No IPv6 on the veths to come (lo keeps ::1): every path is IPv4 via NAT.
    _netns_sysctl "$ns" net.ipv6.conf.default.disable_ipv6 1 2>/dev/null
    # IPv4 settings are copied from the host's namespace: set them explicitly.
    case $role in
    inet | router) _netns_sysctl "$ns" net.ipv4.ip_forward 1 ;;
    *) _netns_sysctl "$ns" net.ipv4.ip_forward 0 ;;
    esac
}

# _netns_veth NS1 IF1 NS2 IF2: a veth pair made inside NS1 with its peer in NS2
# (never in the host's namespace), both up, no IPv6.
_netns_veth() {
    local -
    set +e
    local n1 n2
    n1=$(netns_name "$1")
    n2=$(netns_name "$3")
    ip -n "$n1" link add "$2" type veth peer name "$4" netns "$n2" || return 1
    _netns_sysctl "$n1" "net.ipv6.conf.$2.disable_ipv6" 1 2>/dev/null
    _netns_sysctl "$n2" "net.ipv6.conf.$4.disable_ipv6" 1 2>/dev/null
    ip -n "$n1" link set "$2" up && ip -n "$n2" link set "$4" up
}

# _netns_attach LOGICAL IFACE ADDR: link namespace LOGICAL to inet with a
# point-to-point veth: ADDR/32 peer 203.0.113.1 there, 203.0.113.1 peer ADDR
# (which is also the route to ADDR) in inet, default route via 203.0.113.1.
_netns_attach() {
    local -
    set +e
    local l=$1 ifc=$2 addr=$3 base=${1%-router}
    [ "${NETNS_ROLE[inet]:-}" = inet ] || {
        _netns_say "call netns_internet first"
        return 1
    }
    _netns_veth inet "v-$base" "$l" "$ifc" || return 1
    ip -n "$(netns_name inet)" addr add "$NETNS_GATEWAY/32" peer "$addr/32" dev "v-$base" || return 1
    ip -n "$(netns_name "$l")" addr add "$addr/32" peer "$NETNS_GATEWAY/32" dev "$ifc" || return 1
    ip -n "$(netns_name "$l")" route add default via "$NETNS_GATEWAY" dev "$ifc" || return 1
}

# netns_internet: the "internet" namespace, a plain router for 203.0.113.0/24.
netns_internet() {
    local -
    set +e
    _netns_new inet inet || return 1
    NETNS_ADDR[inet]=$NETNS_GATEWAY
}

# netns_host NAME ADDR: a public host (e.g. the relay) at ADDR in 203.0.113.0/24.
netns_host() {
    local -
    set +e
    [ $# -eq 2 ] || {
        _netns_say "usage: netns_host NAME ADDR"
        return 1
    }
    local name=$1 addr=$2
    _netns_name_ok "$name" && _netns_public_addr_ok "$addr" || return 1
    _netns_new "$name" host || return 1
    _netns_attach "$name" eth0 "$addr" || return 1
    NETNS_ADDR[$name]=$addr
}

# netns_home NAME WAN_ADDR LAN_PREFIX NAT_MODE: a home router NAME-router
# (WAN_ADDR on wan, LAN_PREFIX+1 on lan) and its host NAME-host
# (LAN_PREFIX+2, default via the router). NAT_MODE: keep | random.
netns_home() {
    local -
    set +e
    [ $# -eq 4 ] || {
        _netns_say "usage: netns_home NAME WAN_ADDR LAN_PREFIX keep|random"
        return 1
    }
    local name=$1 wan=$2 lanpfx=$3 mode=$4 net len k
    _netns_name_ok "$name" && _netns_public_addr_ok "$wan" || return 1
    case $mode in keep | random) ;; *)
        _netns_say "NAT_MODE must be keep or random, not '$mode'"
        return 1
        ;;
    esac
    net=${lanpfx%/*}
    len=${lanpfx#*/}
    if ! _netns_is_ipv4 "$net" || ! [[ $len =~ ^[0-9]+$ ]] || ((len < 24 || len > 29)) ||
        ! { _netns_in_range "$net" 198.51.100.0 24 || _netns_in_range "$net" 192.0.2.0 24; }; then
        _netns_say "LAN_PREFIX $lanpfx must be a /24../29 inside 198.51.100.0/24 or 192.0.2.0/24"
        return 1
    fi
    local n mask
    n=$(_netns_ip2int "$net")
    mask=$(((0xffffffff << (32 - len)) & 0xffffffff))
    n=$((n & mask))
    local rtr host
    rtr=$(_netns_int2ip $((n + 1)))
    host=$(_netns_int2ip $((n + 2)))
    for k in "${!NETNS_ADDR[@]}"; do
        if [ "${NETNS_ROLE[$k]}" = homehost ] && _netns_in_range "${NETNS_ADDR[$k]}" "$net" "$len"; then
            _netns_say "LAN $lanpfx overlaps the LAN of ${k%-host}"
            return 1
        fi
    done

    local r="$name-router" h="$name-host" rn hn
    rn=$(netns_name "$r")
    hn=$(netns_name "$h")
    _netns_new "$r" router || return 1
    _netns_new "$h" homehost || return 1
    _netns_attach "$r" wan "$wan" || return 1
    _netns_veth "$r" lan "$h" eth0 || return 1
    ip -n "$rn" addr add "$rtr/$len" dev lan || return 1
    ip -n "$hn" addr add "$host/$len" dev eth0 || return 1
    ip -n "$hn" route add default via "$rtr" dev eth0 || return 1

    # A real home router: LAN -> WAN is forwarded and masqueraded; from the
    # WAN only what conntrack knows (replies, related ICMP) comes in.
    netns_ipt "$r" -P INPUT DROP &&
        netns_ipt "$r" -P FORWARD DROP &&
        netns_ipt "$r" -P OUTPUT ACCEPT &&
        netns_ipt "$r" -A INPUT -i lo -j ACCEPT &&
        netns_ipt "$r" -A INPUT -i lan -j ACCEPT &&
        netns_ipt "$r" -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT &&
        netns_ipt "$r" -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT &&
        netns_ipt "$r" -A FORWARD -i lan -o wan -j ACCEPT || return 1
    if [ "$mode" = keep ]; then
        netns_ipt "$r" -t nat -A POSTROUTING -o wan -j MASQUERADE || return 1
    else
        netns_ipt "$r" -t nat -A POSTROUTING -o wan -j MASQUERADE --random-fully || return 1
    fi
    NETNS_ADDR[$r]=$wan
    NETNS_ADDR[$h]=$host
}

# ---------------------------------------------------------------- running

# netns_ipt NS ARGS...: the chosen iptables variant inside NS.
netns_ipt() {
    local -
    set +e
    local ns
    ns=$(netns_name "$1")
    shift
    ip netns exec "$ns" "$NETNS_IPT" -w "$@"
}

# netns_exec NS CMD...: run CMD in NS, in the foreground.
netns_exec() {
    local -
    set +e
    local ns
    ns=$(netns_name "$1")
    shift
    ip netns exec "$ns" "$@"
}

# netns_bg NS LOGFILE CMD...: start CMD in NS in the background; pid in
# $NETNS_BG_PID (also recorded for netns_cleanup).
netns_bg() {
    local -
    set +e
    local ns log=$2
    ns=$(netns_name "$1")
    shift 2
    ip netns exec "$ns" "$@" >"$log" 2>&1 </dev/null &
    NETNS_BG_PID=$!
    [ -n "$NETNS_DIR" ] && echo "$NETNS_BG_PID $ns" >>"$NETNS_DIR/pids"
    return 0
}

# netns_alive PID: true while PID runs (a zombie counts as gone).
netns_alive() {
    local -
    set +e
    [ -e "/proc/$1/status" ] || return 1
    ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# netns_wait PID [TIMEOUT]: wait for PID; its exit status (if it is a child
# of this shell), 124 if still running after TIMEOUT seconds (default 30).
netns_wait() {
    local -
    set +e
    local pid=$1 t=${2:-30} end
    end=$((SECONDS + t))
    while netns_alive "$pid"; do
        ((SECONDS >= end)) && return 124
        sleep 0.05
    done
    wait "$pid" 2>/dev/null
}

# Does PID live in one of this run's namespaces? (guards against pid reuse)
_netns_pid_ours() {
    local -
    set +e
    local pid=$1 ino n
    ino=$(stat -L -c %i "/proc/$pid/ns/net" 2>/dev/null) || return 1
    for n in $(netns_list); do
        [ "$(stat -L -c %i "/run/netns/$n" 2>/dev/null)" = "$ino" ] && return 0
    done
    return 1
}

_netns_descendants() { # PID: every descendant pid, depth first
    local -
    set +e
    local pid=$1 f line fields child
    for f in /proc/[0-9]*/stat; do
        { read -r line <"$f"; } 2>/dev/null || continue
        read -ra fields <<<"${line##*) }" # state ppid ...
        if [ "${fields[1]:-}" = "$pid" ]; then
            child=${f#/proc/}
            child=${child%/stat}
            _netns_descendants "$child"
            echo "$child"
        fi
    done
}

# netns_kill PID: stop PID (and what it started) -- TERM, KILL after 2 s.
netns_kill() {
    local -
    set +e
    local pid=$1 p pids i
    netns_alive "$pid" || {
        wait "$pid" 2>/dev/null
        return 0
    }
    if ! _netns_pid_ours "$pid"; then
        _netns_say "netns_kill: pid $pid is not in this run's namespaces, left alone"
        return 1
    fi
    pids="$(_netns_descendants "$pid") $pid"
    for p in $pids; do _netns_pid_ours "$p" && kill -TERM "$p" 2>/dev/null; done
    for i in $(seq 40); do
        netns_alive "$pid" || break
        sleep 0.05
    done
    for p in $pids; do netns_alive "$p" && _netns_pid_ours "$p" && kill -KILL "$p" 2>/dev/null; done
    wait "$pid" 2>/dev/null
    return 0
}

# netns_wait_for FILE REGEX [TIMEOUT]: wait for a line matching REGEX.
netns_wait_for() {
    local -
    set +e
    local f=$1 re=$2 t=${3:-10} end
    end=$((SECONDS + t))
    until grep -qE -- "$re" "$f" 2>/dev/null; do
        ((SECONDS >= end)) && return 1
        sleep 0.05
    done
}

# ---------------------------------------------------------------- cut / heal

_NETNS_CUT_RULES=("FORWARD -i wan -j DROP" "FORWARD -o wan -j DROP" "INPUT -i wan -j DROP" "OUTPUT -o wan -j DROP")

# netns_cut HOME: drop everything between HOME's LAN/router and the internet.
netns_cut() {
    local -
    set +e
    local r="$1-router" rule
    [ "${NETNS_ROLE[$r]:-}" = router ] || {
        _netns_say "netns_cut: no home $1"
        return 1
    }
    for rule in "${_NETNS_CUT_RULES[@]}"; do
        # shellcheck disable=SC2086
        netns_ipt "$r" -C $rule 2>/dev/null || netns_ipt "$r" -I ${rule%% *} 1 ${rule#* } || return 1
    done
}

# netns_heal HOME: remove exactly the rules netns_cut added.
netns_heal() {
    local -
    set +e
    local r="$1-router" rule
    [ "${NETNS_ROLE[$r]:-}" = router ] || {
        _netns_say "netns_heal: no home $1"
        return 1
    }
    for rule in "${_NETNS_CUT_RULES[@]}"; do
        # shellcheck disable=SC2086
        while netns_ipt "$r" -C $rule 2>/dev/null; do netns_ipt "$r" -D $rule || return 1; done
    done
}

# netns_cut_pair X Y: in inet, drop traffic between X's and Y's public addresses.
netns_cut_pair() {
    local -
    set +e
    local a b
    a=$(_netns_public_of "$1") && b=$(_netns_public_of "$2") || return 1
    netns_ipt inet -C FORWARD -s "$a" -d "$b" -j DROP 2>/dev/null || netns_ipt inet -I FORWARD 1 -s "$a" -d "$b" -j DROP || return 1
    netns_ipt inet -C FORWARD -s "$b" -d "$a" -j DROP 2>/dev/null || netns_ipt inet -I FORWARD 1 -s "$b" -d "$a" -j DROP || return 1
}

# netns_heal_pair X Y: undo netns_cut_pair X Y.
netns_heal_pair() {
    local -
    set +e
    local a b
    a=$(_netns_public_of "$1") && b=$(_netns_public_of "$2") || return 1
    while netns_ipt inet -C FORWARD -s "$a" -d "$b" -j DROP 2>/dev/null; do netns_ipt inet -D FORWARD -s "$a" -d "$b" -j DROP || return 1; done
    while netns_ipt inet -C FORWARD -s "$b" -d "$a" -j DROP 2>/dev/null; do netns_ipt inet -D FORWARD -s "$b" -d "$a" -j DROP || return 1; done
}

# ---------------------------------------------------------------- captures

# netns_capture NS IFACE FILE: tcpdump -w FILE on IFACE inside NS.
netns_capture() {
    local -
    set +e
    local ns=$1 ifc=$2 file=$3 log
    log="${NETNS_DIR:-/tmp}/tcpdump.$RANDOM.log"
    # -Z root: write FILE as root (tcpdump would otherwise drop to its own
    # user first); --immediate-mode -U: every packet is handed over and
    # written at once (else packets still in the kernel's ring buffer when
    # the capture stops are lost).
    netns_bg "$ns" "$log" tcpdump -i "$ifc" -n --immediate-mode -U -s 0 -Z root -w "$file" || return 1
    NETNS_CAPTURE_PID=$NETNS_BG_PID
    NETNS_CAPTURES+=("$NETNS_CAPTURE_PID")
    if ! netns_wait_for "$log" 'listening on' 5; then
        _netns_say "tcpdump did not start: $(tr '\n' ' ' <"$log")"
        return 1
    fi
}

# netns_capture_stop [PID]: stop one capture (or all); the file is complete
# when this returns.
netns_capture_stop() {
    local -
    set +e
    local p pids=("$@") i keep=()
    [ ${#pids[@]} -gt 0 ] || pids=("${NETNS_CAPTURES[@]}")
    [ ${#pids[@]} -gt 0 ] || return 0
    sleep 0.2 # packets just sent reach tcpdump
    for p in "${pids[@]}"; do
        netns_alive "$p" && _netns_pid_ours "$p" && kill -INT "$p" 2>/dev/null
    done
    for p in "${pids[@]}"; do
        for i in $(seq 60); do
            netns_alive "$p" || break
            sleep 0.05
        done
        netns_alive "$p" && _netns_pid_ours "$p" && kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    for p in "${NETNS_CAPTURES[@]}"; do
        [[ " ${pids[*]} " == *" $p "* ]] || keep+=("$p")
    done
    NETNS_CAPTURES=("${keep[@]}")
    return 0
}

# ---------------------------------------------------------------- cleanup

# netns_cleanup: kill every process in this run's namespaces and delete them
# (which deletes their veths). Idempotent; returns 1 if something is left.
netns_cleanup() {
    local -
    set +e
    [ -n "$NETNS_PREFIX" ] || return 0
    local nss n p pids i left
    nss=$(netns_list)
    [ -n "$nss" ] || return 0
    [ ${#NETNS_CAPTURES[@]} -gt 0 ] && netns_capture_stop
    # Everything inside our namespaces: what netns_bg started, what those
    # started, anything a scenario started with netns_exec ... &.
    pids=
    for n in $nss; do pids+=" $(ip netns pids "$n" 2>/dev/null | tr '\n' ' ')"; done
    for p in $pids; do kill -TERM "$p" 2>/dev/null; done
    for i in $(seq 20); do
        left=
        for p in $pids; do netns_alive "$p" && left=1; done
        [ -z "$left" ] && break
        sleep 0.05
    done
    for n in $nss; do
        for p in $(ip netns pids "$n" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    done
    for p in $pids; do wait "$p" 2>/dev/null; done
    for n in $nss; do ip netns del "$n" 2>/dev/null; done
    left=$(netns_list)
    if [ -n "$left" ]; then
        _netns_say "cleanup left namespaces: $left"
        return 1
    fi
    return 0
}
