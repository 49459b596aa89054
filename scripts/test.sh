#!/usr/bin/env bash
# The whole test suite: set-up (idempotent), lint + format check, type-check, unit tests,
# integration tests (root, real kernel), security tests (one per known hole and runtime CVE class,
# plus the fuzzers for a bounded time), fault-injection tests (kill -9, full disks, damaged databases,
# signals) and interop tests (against the reference peers).
# Usage: scripts/test.sh [unit|integration|security|faults|interop ...]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
node_bin=$(readlink -f "$(head -1 dist/berth-runc.mjs | cut -c3-)")
export PATH="$(dirname "$node_bin"):$PATH"

suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(unit integration security faults interop)

npx biome check src test bench scripts
npx tsc --noEmit -p .

files=()
for s in "${suites[@]}"; do
  case "$s" in
    unit) while IFS= read -r f; do files+=("$f"); done < <(find src test/unit -name '*.test.ts' | sort) ;;
    integration|security|faults|interop) while IFS= read -r f; do files+=("$f"); done < <(find "test/$s" -name '*.test.ts' | sort) ;;
    *) echo "unknown suite: $s" >&2; exit 2 ;;
  esac
done
# Integration tests use private state roots, so files may run side by side.
exec node --test --test-concurrency=2 --test-reporter=spec "${files[@]}"
