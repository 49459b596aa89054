#!/usr/bin/env bash
# The "main job" demo (after `bash scripts/setup.sh`): builds a busybox bundle in a temp dir from
# the host's busybox-static, writes berth-runc's own default config.json into it, and runs it in
# the foreground with berth-runc; then cleans up.
# BERTH_RUNC=/usr/sbin/runc scripts/demo.sh runs the same demo with another OCI runtime.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
runtime=${BERTH_RUNC:-$repo/dist/berth-runc.mjs}
[ -x "$runtime" ] || { echo "demo: $runtime not found; run: bash scripts/setup.sh" >&2; exit 1; }

# The build writes its Node (>= 24, which runs the .ts fixture directly) into the shebang.
node_bin=$(head -1 "$repo/dist/berth-runc.mjs" | cut -c3-)
export PATH="$(dirname "$node_bin"):$PATH"

work=$(mktemp -d /tmp/berth-demo-XXXXXX)
id="berth-demo-$$"
cleanup() {
  "$runtime" --root "$work/state" delete --force "$id" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/bundle"
node --input-type=module -e "
import { makeBusyboxRootfs } from '$repo/test/fixtures/busybox.ts';
await makeBusyboxRootfs(process.argv[1] + '/rootfs');
" "$work/bundle"
(cd "$work/bundle" && "$runtime" spec)
# A non-interactive demo: no terminal, a friendly hostname, a command that shows where it runs.
node --input-type=module -e "
import { readFileSync, writeFileSync } from 'node:fs';
const file = process.argv[1] + '/config.json';
const spec = JSON.parse(readFileSync(file, 'utf8'));
spec.process.terminal = false;
spec.hostname = 'berth-demo';
spec.process.args = ['sh', '-c',
  'echo \"hello from a berth container (busybox sh, pid \$\$, hostname \$(hostname), user \$(id -un))\"; ' +
  'echo \"  processes visible: \$(ls -d /proc/[0-9]* | wc -l), mounts: \$(wc -l < /proc/self/mounts), kernel \$(uname -r)\"'];
writeFileSync(file, JSON.stringify(spec, null, 2));
" "$work/bundle"

"$runtime" --root "$work/state" run --bundle "$work/bundle" "$id"
