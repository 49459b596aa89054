// Entry point of berth-containerd: the berth-containerd daemon (issue 3). Not built yet; it says so rather than pretending.
process.stderr.write("berth-containerd: not implemented yet (berth currently ships berth-runc; see README)\n");
process.exitCode = 1;
