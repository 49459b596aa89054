// Directories and unix sockets whose modes never depend on the umask. mkdir and open take the
// mode they are given minus the umask, so an explicit mode is only ever an upper bound; a socket
// made by listen() gets 0777 minus the umask and anyone who may write it may connect. Daemons and
// shims run under whatever umask started them (umask 000 included), so every directory and
// socket they share with the host is given its mode here, explicitly.
import { chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { FailedPreconditionError } from "./errors.ts";

/**
 * Makes `dir` and its missing parents, each with exactly `mode`. An existing `dir` is left as it
 * is (it may be shared, like /run); see ownDir for the directories a daemon owns.
 */
export function makeDir(dir: string, mode: number): void {
  const first = mkdirSync(dir, { recursive: true, mode });
  if (first === undefined) return;
  // The umask may have taken bits away from what was made: set them, outermost first.
  let p = first;
  chmodSync(p, mode);
  for (const part of relative(first, dir).split(sep).filter(Boolean)) {
    p = join(p, part);
    chmodSync(p, mode);
  }
}

/**
 * makeDir for a directory that belongs to this process's user alone (a daemon's root or state,
 * the shim socket directory): an existing one owned by another user is refused (that user could
 * swap what is inside), and mode bits beyond `mode` are removed. Returns the mode it had when it
 * was tightened.
 */
export function ownDir(dir: string, mode: number): number | undefined {
  makeDir(dir, mode);
  const st = statSync(dir);
  const uid = process.geteuid?.() ?? 0;
  if (!st.isDirectory()) throw new FailedPreconditionError(`${dir}: not a directory`);
  if (st.uid !== uid) {
    throw new FailedPreconditionError(`${dir}: owned by uid ${st.uid}, not ${uid}: refusing to use it`);
  }
  const had = st.mode & 0o7777;
  if ((had & ~mode) === 0) return undefined;
  chmodSync(dir, had & mode);
  return had;
}

/**
 * Binds a unix socket at `path` with exactly `mode`, with no moment at which anyone else could
 * connect to it. `bind(at)` makes the caller's server listen at `at`: a path in a fresh directory
 * beside `path` that only this user can enter (mkdtemp makes it 0700). There the socket is
 * chmodded, then renamed into place; a client reaches a socket through its inode, so the rename
 * keeps it serving, and it replaces a stale socket atomically. (Setting the umask around listen()
 * would also do, but the umask belongs to the whole process, and a daemon has other files in
 * flight.) If this throws after `bind` succeeded, the caller closes its server.
 */
export async function listenUnix(path: string, mode: number, bind: (at: string) => Promise<void>): Promise<void> {
  const tmp = privateBindDir(path);
  try {
    const at = join(tmp, "s");
    await bind(at);
    publishSocket(at, path, mode);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** listenUnix with a synchronous `bind` (one that returns a listening fd, say): its result. */
export function listenUnixSync<T>(path: string, mode: number, bind: (at: string) => T): T {
  const tmp = privateBindDir(path);
  try {
    const at = join(tmp, "s");
    const bound = bind(at);
    publishSocket(at, path, mode);
    return bound;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function privateBindDir(path: string): string {
  return mkdtempSync(join(dirname(path), ".sock-"));
}

function publishSocket(at: string, path: string, mode: number): void {
  chmodSync(at, mode);
  renameSync(at, path);
}

/**
 * Makes the umask take at least group and other write (022 added to what it is), as dockerd does
 * at start-up: whatever a daemon or a library it runs creates without a mode of its own (a
 * runtime's pid file, SQLite's files, runc run as a child) is then never writable by others.
 * Called first thing in a daemon's main, before anything runs beside it.
 */
export function restrictUmask(): void {
  const was = process.umask(0o022);
  process.umask(was | 0o022);
}
