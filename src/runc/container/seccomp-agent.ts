// What a seccomp agent (linux.seccomp.listenerPath) receives with a process's notify fd: the
// runtime-spec's container process state. nsexec's parent half sends it, with the fd, over a
// connection it made in the runtime's mount namespace before joining any of the container's.
import type { State } from "../config/types.ts";

/** The name of the notify fd in `fds` (runtime-spec: "seccompFd"). */
export const SECCOMP_FD_NAME = "seccompFd";

export interface ContainerProcessState {
  ociVersion: string;
  /** Names of the fds sent with SCM_RIGHTS, in their order. */
  fds: string[];
  /** The process the fd belongs to, as the runtime sees it. */
  pid: number;
  /** linux.seccomp.listenerMetadata, when set. */
  metadata?: string;
  state: State;
}

/** The state of `pid` (the init, or an exec'd process) in a container whose state is `state`. */
export function containerProcessState(state: State, pid: number, metadata: string | undefined): ContainerProcessState {
  return { ociVersion: state.ociVersion, fds: [SECCOMP_FD_NAME], pid, ...(metadata ? { metadata } : {}), state };
}
