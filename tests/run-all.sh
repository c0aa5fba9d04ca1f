#!/usr/bin/env bash
# The whole test suite: every Rust test of the workspace, then the suites that need real
# network namespaces (a NAT topology with a relay, as root; skipped with the reason when this
# machine cannot make namespaces, e.g. without root). Exits non-zero if anything failed.
#
#   bash tests/run-all.sh                 everything
#   PUENTE_SKIP_NETNS=1 bash tests/run-all.sh   only the Rust tests
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> cargo test --workspace --locked"
cargo test --workspace --locked

if [ "${PUENTE_SKIP_NETNS:-}" = 1 ]; then
    echo "==> network namespace suites skipped (PUENTE_SKIP_NETNS=1)"
    exit 0
fi

# The CLI tests built the binary; the namespace suites run that one.
cargo build --locked -p puente
export PUENTE_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/puente"

passed=0 skipped=0 failed=()
for suite in tests/netns/selftest.sh tests/netns/nat.sh; do
    [ -f "$suite" ] || continue
    echo "==> $suite"
    status=0
    bash "$suite" || status=$?
    case "$status" in
        0) passed=$((passed + 1)) ;;
        77) skipped=$((skipped + 1)); echo "    (skipped: see the line above)" ;;
        *) failed+=("$suite (exit $status)") ;;
    esac
done
if [ "${#failed[@]}" -gt 0 ]; then
    printf 'namespace suites failed: %s\n' "${failed[*]}"
    echo "netns: $passed passed, ${#failed[@]} failed, $skipped skipped"
    exit 1
fi
echo "netns: $passed passed, 0 failed, $skipped skipped"
