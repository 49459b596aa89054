// Entry point of berth: the berth CLI (Docker-compatible client). Not built yet; it says so rather than pretending.
process.stderr.write("berth: not implemented yet (berth currently ships berth-runc; see README)\n");
process.exitCode = 1;
