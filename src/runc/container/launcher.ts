// What starts the runtime's processes (nsexec, or a runtime binary the shim runs) when the caller
// wants them to be another process's children: berth-shim passes its task's keeper here, so the
// container's init and exec'd processes are the keeper's children, not the shim's. Without one,
// the runtime spawns with child_process (the berth-runc command line).

/** A process a Launcher started. */
export interface Launched {
  pid: number;
  /** Its exit status: the code, or 128 + the signal that ended it. */
  exit: Promise<number>;
}

export interface Launcher {
  /**
   * Runs `argv[0]` (a path) with `argv` and `env` ("KEY=VALUE"); the process gets `fds` as its
   * 0..n-1 and nothing else. The caller keeps its copies of `fds` open until this settles.
   */
  launch(argv: readonly string[], env: readonly string[], fds: readonly number[]): Promise<Launched>;
}
