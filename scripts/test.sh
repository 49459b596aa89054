#!/usr/bin/env bash
# The whole test suite: set-up (idempotent), lint + format check, type-check, unit tests,
# integration tests (root, real kernel), security tests (one per known hole and runtime CVE class,
# plus the fuzzers for a bounded time), fault-injection tests (kill -9, full disks, damaged databases,
# signals) and interop tests (against the reference peers).
# Usage: scripts/test.sh [unit|integration|security|faults|interop ...]   (default: all)
# `scripts/test.sh unit` (npm test -- unit) is the quick loop: the unit tests need no root, system
# packages, network or build, so it sets up only Node 24, the npm dependencies and the generated
# protobuf code, and runs as any user (test/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."

suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(unit integration security faults interop)

if [ "${suites[*]}" = "unit" ]; then bash scripts/setup.sh --unit; else bash scripts/setup.sh; fi
. scripts/node-env.sh

# Lint: biome, and the layer order of src/ (scripts/check-layers.mjs); then the type-check.
npm run --silent lint
npm run --silent typecheck

files=()
for s in "${suites[@]}"; do
  case "$s" in
    unit) while IFS= read -r f; do files+=("$f"); done < <(find src scripts bench -name '*.test.ts' -not -path 'src/proto/gen/*' | sort) ;;
    integration|security|faults|interop) while IFS= read -r f; do files+=("$f"); done < <(find "test/$s" -name '*.test.ts' | sort) ;;
    *) echo "unknown suite: $s" >&2; exit 2 ;;
  esac
done
# Integration tests use private state roots, so files may run side by side. A test that sets no
# timeout of its own gets 15 minutes: a hang fails it instead of holding the whole run (and CI).
exec node --test --test-concurrency=2 --test-timeout=900000 --test-reporter=spec "${files[@]}"
