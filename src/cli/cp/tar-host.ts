// A host file or tree as the tar docker's CLI uploads for `docker cp SRC CONTAINER:DST` (moby's
// TarWithOptions of the source's directory, including only the source's entry, its first name
// renamed when the copy says so): symlinks written as symlinks and never followed below the
// source, a second name of a hard-linked file as a link to the first, sockets skipped, names in
// byte order as Go's filepath.Walk lists them. A file is read through the fd lstat's inode was
// checked on, and exactly the size in its header is written (zeros past an early end).
import {
  type BigIntStats,
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readdirSync,
  readlinkSync,
} from "node:fs";
import { fileData } from "../../common/archive/file-data.ts";
import { entryFromStat } from "../../common/archive/tar-entry.ts";
import { END_OF_ARCHIVE, encodeHeader, entryTypeOf } from "../../common/archive/tar-format.ts";

/** A source nested deeper than this is refused (each level is a generator frame). */
export const MAX_DEPTH = 1024;

/**
 * The tar of `dir/base` (base "." for the directory's contents), its names starting with `base`,
 * or `rename` in its place (docker's RebaseNames), ending the archive.
 */
export async function* tarHost(dir: string, base: string, rename: string): AsyncGenerator<Buffer> {
  const links = new Map<string, string>();
  const replacement = rename === "/" ? "" : rename;
  const nameOf = (rel: string) => (rename !== "" ? rel.replace(base, () => replacement) : rel);
  async function* walk(abs: string, rel: string, depth: number): AsyncGenerator<Buffer> {
    if (depth > MAX_DEPTH) throw new Error(`${abs}: more than ${MAX_DEPTH} directories deep`);
    const st = lstatSync(abs, { bigint: true });
    const type = entryTypeOf(st);
    if (type === null) return; // a socket
    const name = nameOf(rel);
    const entry = entryFromStat(name, st, type, type === "symlink" ? readlinkSync(abs) : "");
    if (type !== "dir" && st.nlink > 1n) {
      const key = `${st.dev}:${st.ino}`;
      const first = links.get(key);
      if (first !== undefined) {
        yield encodeHeader({ ...entry, type: "hardlink", linkname: first, size: 0 });
        return;
      }
      links.set(key, name);
    }
    if (type === "file") {
      yield* fileEntry(abs, entry, st);
      return;
    }
    yield encodeHeader(entry);
    if (type !== "dir") return;
    const names = readdirSync(abs).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const child of names) yield* walk(`${abs}/${child}`, `${rel}/${child}`, depth + 1);
  }
  yield* walk(dir === "/" ? `/${base}` : `${dir}/${base}`, base, 0);
  yield END_OF_ARCHIVE;
}

async function* fileEntry(
  abs: string,
  entry: ReturnType<typeof entryFromStat>,
  st: BigIntStats,
): AsyncGenerator<Buffer> {
  const fd = openSync(abs, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    const now = fstatSync(fd, { bigint: true });
    if (!now.isFile() || now.ino !== st.ino || now.dev !== st.dev) return; // swapped meanwhile
    yield encodeHeader(entry);
    yield* fileData(fd, entry.size);
  } finally {
    closeSync(fd);
  }
}
