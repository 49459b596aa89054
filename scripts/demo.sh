#!/usr/bin/env bash
# The "main job" demo (after `bash scripts/setup.sh`, which leaves berthd running with the built-in
# busybox image): `berth run --rm busybox ...` against berthd's socket, printing where the container
# runs; then the same with the machine's docker client, which berthd serves too.
#   scripts/demo.sh            berth run, then docker run, against berthd
#   scripts/demo.sh --runc     also the OCI-runtime demo: a busybox bundle in a temp dir (from the
#                              host's busybox-static, berth-runc's own default config.json) run in
#                              the foreground by berth-runc alone, no daemon; then cleaned up.
#                              BERTH_RUNC=/usr/sbin/runc runs that part with another OCI runtime.
# BERTH_SOCKET names another berthd socket (default /run/berth/berth.sock).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
socket=${BERTH_SOCKET:-/run/berth/berth.sock}

# docker CLI 28 where the machine has one, else Debian's docker.io client (20.10), which setup installs.
docker=/usr/local/bin/docker
[ -x "$docker" ] || docker=/usr/bin/docker
[ -x "$docker" ] || { echo "demo: no docker client; run: bash scripts/setup.sh" >&2; exit 1; }
[ -S "$socket" ] || { echo "demo: berthd is not running on $socket; run: bash scripts/setup.sh" >&2; exit 1; }

# A non-interactive command that shows where it runs: its own hostname, user, pid and view of /proc.
# shellcheck disable=SC2016 # expanded inside the container
show='echo "hello from a berth container (busybox sh, pid $$, hostname $(hostname), user $(id -un))"; '\
'echo "  processes visible: $(ls -d /proc/[0-9]* | wc -l), mounts: $(wc -l < /proc/self/mounts), kernel $(uname -r)"'

berth=$repo/dist/berth.mjs
[ -x "$berth" ] || { echo "demo: $berth not found; run: bash scripts/setup.sh" >&2; exit 1; }
echo "\$ berth run --rm --network none --hostname berth-demo busybox sh -c ...   (dist/berth.mjs, BERTH_HOST=unix://$socket)"
BERTH_HOST="unix://$socket" "$berth" run --rm --network none --hostname berth-demo busybox sh -c "$show"

echo
echo "\$ docker run --rm --network none --hostname berth-demo busybox sh -c ...   (DOCKER_HOST=unix://$socket, $("$docker" --version))"
DOCKER_HOST="unix://$socket" "$docker" run --rm --network none --hostname berth-demo busybox sh -c "$show"

[ "${1:-}" = "--runc" ] || exit 0

echo
echo "\$ berth-runc run --bundle <busybox bundle> ...   (the OCI runtime alone)"
runtime=${BERTH_RUNC:-$repo/dist/berth-runc.mjs}
[ -x "$runtime" ] || { echo "demo: $runtime not found; run: bash scripts/setup.sh" >&2; exit 1; }
# The build writes its Node (>= 24, which runs the .ts fixture directly) into the shebang.
node_bin=$(head -1 "$repo/dist/berth-runc.mjs" | cut -c3-)
PATH="$(dirname "$node_bin"):$PATH"
export PATH

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
node --input-type=module -e "
import { readFileSync, writeFileSync } from 'node:fs';
const file = process.argv[1] + '/config.json';
const spec = JSON.parse(readFileSync(file, 'utf8'));
spec.process.terminal = false;
spec.hostname = 'berth-demo';
spec.process.args = ['sh', '-c', process.argv[2]];
writeFileSync(file, JSON.stringify(spec, null, 2));
" "$work/bundle" "$show"

"$runtime" --root "$work/state" run --bundle "$work/bundle" "$id"
