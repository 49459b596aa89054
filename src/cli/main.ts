// Entry point of berth: the berth CLI (Docker-compatible client). Not built yet; it says so rather than pretending.
process.stderr.write(
  "berth: not implemented yet (berth ships berth-runc, berth-shim, berth-containerd and a first berthd today; see README)\n",
);
process.exitCode = 1;
