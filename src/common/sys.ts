// Syscalls Node lacks (native/node/shimsys.c, a Node-API addon built to dist/shimsys.node): the
// shim reaps, mounts and passes fds with them, berth-containerd holds its --root with flock.
// Here, below both, so neither reaches into the other's modules. Bundled, the addon sits beside
// the bundle; run from source (tests), it is in the repo's dist/.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export interface ShimSys {
  /** prctl(PR_SET_CHILD_SUBREAPER, 1). */
  setChildSubreaper(): void;
  /** Reaps `pid` if it has exited: [exit code, signal]; null while it runs. Throws ECHILD. */
  waitPid(pid: number): [number, number] | null;
  /** Receives one fd passed with SCM_RIGHTS on a connected unix socket fd. */
  recvFd(sockFd: number, timeoutMs: number): number;
  /** TIOCSWINSZ on a pty master. */
  setWinsize(fd: number, rows: number, cols: number): void;
  /** fcntl(F_DUPFD_CLOEXEC). */
  dup(fd: number): number;
  /** mount(2); "" source/fstype/data pass NULL. */
  mount(source: string, target: string, fstype: string, flags: number, data: string): void;
  /** umount2(2). */
  umount(target: string, flags: number): void;
  /** pipe2(O_CLOEXEC): [read end, write end]. */
  pipe(): [number, number];
  /** flock(LOCK_EX | LOCK_NB): false when another open file description holds the lock. */
  tryLock(fd: number): boolean;
  /** socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC): two connected fds. */
  socketpair(): [number, number];
  /**
   * One sendmsg of `data` with 0–16 `fds` as SCM_RIGHTS (MSG_NOSIGNAL), then plain sends of the rest;
   * bytes sent. Errno errors (EAGAIN on a non-blocking socket too) carry `sent`, the bytes that went.
   */
  sendFds(sockFd: number, data: Uint8Array, fds: number[]): number;
  /** A new pty: [master, slave] (posix_openpt, unlockpt, TIOCGPTPEER), O_NOCTTY and close-on-exec. */
  openPty(): [number, number];
  /** A unix stream socket bound at `path` and listening, close-on-exec (the path must fit sun_path). */
  listenUnix(path: string): number;
  /**
   * posix_spawn (a vfork) of `path`, no arguments or environment, stdio /dev/null, `fd3` and `fd4`
   * as 3 and 4, its own session, default signals: the pid. Not libuv's child: the caller reaps it.
   */
  spawnKeeper(path: string, fd3: number, fd4: number): number;
}

let loaded: ShimSys | undefined;

export function shimSys(): ShimSys {
  if (loaded) return loaded;
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, "shimsys.node"), join(here, "..", "..", "dist", "shimsys.node")];
  const path = candidates.find((p) => existsSync(p));
  if (!path) throw new Error(`shimsys.node not found (looked in ${candidates.join(", ")}); run the build`);
  loaded = createRequire(import.meta.url)(path) as ShimSys;
  return loaded;
}
