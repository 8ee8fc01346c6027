#!/usr/bin/env bash
# Every check of the project, as CI runs it: formatting, lints, unit and integration tests on
# SQLite and PostgreSQL, and the browser tests in Chromium. Starts or installs what it needs.
# Ends with one line "total: N passed, M failed" and a non-zero exit on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/services.sh

export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
logs=$(mktemp -d)
failed_steps=()

step() {
  local name="$1"; shift
  echo "==> $name"
  if ! "$@"; then failed_steps+=("$name"); fi
}

ensure_postgres || { echo "total: 0 passed, 1 failed"; exit 1; }
drop_scratch_databases
ensure_nextest

step "cargo fmt --check" cargo fmt --all --check
step "cargo clippy" cargo clippy --workspace --all-targets -- -D warnings

echo "==> unit and integration tests (SQLite and PostgreSQL)"
cargo nextest run --workspace --no-fail-fast 2>&1 | tee "$logs/nextest.txt"
[ "${PIPESTATUS[0]}" -eq 0 ] || failed_steps+=("cargo nextest")
rust_pass=$(grep -Eo '[0-9]+ passed' "$logs/nextest.txt" | tail -n1 | grep -Eo '[0-9]+' || echo 0)
rust_fail=$(grep -E 'tests run:' "$logs/nextest.txt" | tail -n1 | grep -Eo '[0-9]+ failed' | grep -Eo '[0-9]+' || echo 0)

echo "==> browser tests (Chromium)"
browser_pass=0; browser_fail=0
if ensure_chromium && ensure_node_modules tests/browser && cargo build -p haoban --bin haoban; then
  HAOBAN_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/haoban" node --test --test-reporter=tap --test-timeout=120000 tests/browser/ 2>&1 | tee "$logs/browser.txt"
  [ "${PIPESTATUS[0]}" -eq 0 ] || failed_steps+=("browser tests")
  browser_pass=$(grep -E '^# pass ' "$logs/browser.txt" | tail -n1 | grep -Eo '[0-9]+' || echo 0)
  browser_fail=$(grep -E '^# fail ' "$logs/browser.txt" | tail -n1 | grep -Eo '[0-9]+' || echo 0)
else
  failed_steps+=("browser test setup")
fi

passed=$((rust_pass + browser_pass))
failed=$((rust_fail + browser_fail))
if [ ${#failed_steps[@]} -gt 0 ]; then
  echo "failed steps: ${failed_steps[*]}"
  [ "$failed" -eq 0 ] && failed=${#failed_steps[@]}
fi
echo "total: $passed passed, $failed failed"
[ ${#failed_steps[@]} -eq 0 ]
