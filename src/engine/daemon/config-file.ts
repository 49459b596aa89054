// Reading daemon.json. The file steers what berthd (root) runs, so the rule is strict and easy
// to state: the path's directories are not reached through a symlink (the directory's real path
// is the path as written), the file itself is not a symlink (O_NOFOLLOW), it is a regular file
// owned by root (or berthd's own user) that neither group nor others may write, and it is at
// most 1 MiB. Anything else is refused naming the file and the rule it broke. The default file
// may be absent; a file named with --config-file must exist.
import { closeSync, constants, fstatSync, openSync, readSync, realpathSync } from "node:fs";
import { dirname } from "node:path";
import { errnoCode, errorMessage, InvalidArgumentError } from "../../common/errors.ts";

/** daemon.json's largest size: a few KiB in practice. */
export const CONFIG_FILE_MAX_BYTES = 1 << 20;

/** The parsed document, or undefined when the default file is absent. */
export function readConfigFile(path: string, explicit: boolean): unknown {
  const fail = (why: string): never => {
    throw new InvalidArgumentError(`unable to configure the berth daemon with file ${path}: ${why}`);
  };
  let dirReal: string;
  try {
    dirReal = realpathSync(dirname(path));
  } catch (err) {
    if (errnoCode(err) === "ENOENT" && !explicit) return undefined;
    return fail(errorMessage(err));
  }
  if (dirReal !== dirname(path)) fail(`its directory is reached through a symlink (${dirReal}): name the real path`);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = errnoCode(err);
    if (code === "ENOENT" && !explicit) return undefined;
    if (code === "ELOOP") return fail("it is a symlink: name the file itself");
    return fail(errorMessage(err));
  }
  try {
    const st = fstatSync(fd);
    const uid = process.geteuid?.() ?? 0;
    if (!st.isFile()) fail("not a regular file");
    if (st.uid !== 0 && st.uid !== uid) fail(`owned by uid ${st.uid}: it must be root's`);
    if ((st.mode & 0o022) !== 0) {
      fail(`writable by group or others (mode ${(st.mode & 0o7777).toString(8).padStart(4, "0")}): chmod go-w it`);
    }
    if (st.size > CONFIG_FILE_MAX_BYTES) fail(`larger than ${CONFIG_FILE_MAX_BYTES} bytes`);
    // Read one byte past the limit so a file that grew after fstat is caught too.
    const buf = Buffer.alloc(CONFIG_FILE_MAX_BYTES + 1);
    let size = 0;
    for (;;) {
      const n = readSync(fd, buf, size, buf.length - size, null);
      if (n === 0) break;
      size += n;
      if (size > CONFIG_FILE_MAX_BYTES) fail(`larger than ${CONFIG_FILE_MAX_BYTES} bytes`);
    }
    try {
      return JSON.parse(buf.subarray(0, size).toString("utf8"));
    } catch (err) {
      return fail(`invalid JSON: ${errorMessage(err)}`);
    }
  } finally {
    closeSync(fd);
  }
}
