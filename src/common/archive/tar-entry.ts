// Tar entries made from what they describe, for every writer (containerd's diffs, docker cp and
// export): a file's lstat (type, permission bits, owner, size, whole-second mtime, device
// numbers), or a bare entry holding only the fields a caller names (a whiteout, a test's header).
import type { BigIntStats } from "node:fs";
import { devMajor, devMinor, type TarEntry, type TarEntryType } from "./tar-format.ts";

/** The entry for a file as lstat saw it (`type` from entryTypeOf; `linkname` for a symlink). */
export function entryFromStat(
  name: string,
  st: BigIntStats,
  type: TarEntryType,
  linkname: string,
  xattrs: Map<string, Buffer> = new Map(),
): TarEntry {
  const device = type === "char" || type === "block";
  return {
    name,
    type,
    mode: Number(st.mode) & 0o7777,
    uid: Number(st.uid),
    gid: Number(st.gid),
    size: type === "file" ? Number(st.size) : 0,
    mtime: Number(st.mtimeNs / 1_000_000_000n),
    linkname,
    devmajor: device ? devMajor(st.rdev) : 0,
    devminor: device ? devMinor(st.rdev) : 0,
    xattrs,
  };
}

/** An entry with every field zero or empty but those given. */
export function bareEntry(fields: Pick<TarEntry, "name" | "type"> & Partial<TarEntry>): TarEntry {
  return {
    mode: 0,
    uid: 0,
    gid: 0,
    size: 0,
    mtime: 0,
    linkname: "",
    devmajor: 0,
    devminor: 0,
    xattrs: new Map(),
    ...fields,
  };
}
