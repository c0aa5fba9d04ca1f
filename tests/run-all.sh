#!/usr/bin/env bash
# The whole test suite: every Rust test of the workspace, then the suites that need real
# network namespaces (a NAT topology with a relay, as root) and a real browser (headless
# Chromium, installed with apt-get when missing). A suite this machine cannot run (no root)
# is skipped with the reason. Exits non-zero if anything failed.
#
#   bash tests/run-all.sh                          everything
#   PUENTE_SKIP_NETNS=1 bash tests/run-all.sh      without the namespace and browser suites
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> cargo test --workspace --locked"
cargo test --workspace --locked

if [ "${PUENTE_SKIP_NETNS:-}" = 1 ]; then
    echo "==> network namespace and browser suites skipped (PUENTE_SKIP_NETNS=1)"
    exit 0
fi

# The CLI tests built the binary; the namespace suites run that one.
cargo build --locked -p puente
export PUENTE_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/puente"

passed=0 skipped=0 failed=()
for suite in tests/netns/selftest.sh tests/netns/nat.sh tests/browser.sh; do
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
    printf 'suites failed: %s\n' "${failed[*]}"
    echo "namespace and browser suites: $passed passed, ${#failed[@]} failed, $skipped skipped"
    exit 1
fi
echo "namespace and browser suites: $passed passed, 0 failed, $skipped skipped"
