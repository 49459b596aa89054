// Entry point of berthd: the berthd engine daemon. Not built yet; it says so rather than pretending.
process.stderr.write("berthd: not implemented yet (berth currently ships berth-runc; see README)\n");
process.exitCode = 1;
