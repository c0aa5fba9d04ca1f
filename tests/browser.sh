#!/usr/bin/env bash
# The web page in a real browser: installs Debian's chromium and chromium-driver when they are
# missing (as root, with apt-get), builds puente, and runs tests/browser (headless Chromium
# driven through chromedriver against real nodes on 127.0.0.1). Everything it starts and every
# file it makes lives under one temporary directory, removed (and its processes stopped) at
# the end, also on failure.
#
#   bash tests/browser.sh
#   PUENTE_SCREENSHOTS=docs/images bash tests/browser.sh    also save the screenshots
#
# Exit 0 when the tests pass, 77 when the browser cannot be installed here (one line says
# why), 1 otherwise. About a minute on two cores once built.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'browser: %s\n' "$*"; }

if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        say "chromium and chromedriver are missing and cannot be installed here (needs root and apt-get); skipped"
        exit 77
    fi
    say "installing chromium and chromium-driver"
    log=$(mktemp)
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; } >"$log" 2>&1; then
        say "apt-get install chromium chromium-driver failed; see $log"
        exit 77
    fi
    rm -f "$log"
fi

work=$(mktemp -d)
cleanup() {
    # Browsers and drivers the tests started keep their profiles under $work: stop any left.
    pkill -f -- "$work" 2>/dev/null || true
    pkill -f -- "--user-data-dir=$work" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

cargo build --locked -p puente
export PUENTE_BIN="${PUENTE_BIN:-${CARGO_TARGET_DIR:-$PWD/target}/debug/puente}"
if [ -n "${PUENTE_SCREENSHOTS:-}" ]; then
    mkdir -p "$PUENTE_SCREENSHOTS"
    PUENTE_SCREENSHOTS=$(cd "$PUENTE_SCREENSHOTS" && pwd)
    export PUENTE_SCREENSHOTS
fi
# The tests' temporary directories (data directories, browser profiles) go under $work.
export TMPDIR="$work"
cargo test --locked -p puente-tests --features browser --test browser
