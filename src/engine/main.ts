// Entry point of berthd: the berthd engine daemon. Not built yet; it says so rather than pretending.
process.stderr.write(
  "berthd: not implemented yet (berth ships berth-runc, berth-shim and berth-containerd today; see README)\n",
);
process.exitCode = 1;
