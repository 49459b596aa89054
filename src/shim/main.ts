// Entry point of berth-shim: the berth-shim (issue 4). Not built yet; it says so rather than pretending.
process.stderr.write("berth-shim: not implemented yet (berth currently ships berth-runc; see README)\n");
process.exitCode = 1;
