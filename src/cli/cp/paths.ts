// docker cp's path rules (the CLI's and moby's pkg/archive copy rules), pure: which argument is
// the container's, what a trailing "/" or "/." asserts, where an archive is extracted and which
// first name in it is renamed so the copy lands under the name the user asked for.
import { posix } from "node:path";

/** "ctr:/path" as container and path; a local path ("/abs", "./x:y", "x") has no container. */
export function splitCpArg(arg: string): { container: string; path: string } {
  if (arg.startsWith("/")) return { container: "", path: arg };
  const colon = arg.indexOf(":");
  if (colon < 0 || arg.startsWith(".")) return { container: "", path: arg };
  return { container: arg.slice(0, colon), path: arg.slice(colon + 1) };
}

/** Go's filepath.Clean. */
export function goClean(p: string): string {
  if (p === "") return ".";
  const n = posix.normalize(p);
  return n.length > 1 && n.endsWith("/") ? n.slice(0, -1) : n;
}

/** Go's filepath.Base and Dir. */
export function goBase(p: string): string {
  if (p === "") return ".";
  const t = p.replace(/\/+$/, "");
  if (t === "") return "/";
  return t.slice(t.lastIndexOf("/") + 1);
}
export function goDir(p: string): string {
  return goClean(p.slice(0, p.lastIndexOf("/") + 1));
}
/** Go's filepath.Join (empty parts dropped, the result cleaned). */
export function goJoin(...parts: string[]): string {
  const kept = parts.filter((x) => x !== "");
  return kept.length === 0 ? "" : goClean(kept.join("/"));
}

export function hasTrailingSeparator(p: string): boolean {
  return p.length > 0 && p.endsWith("/");
}
export function specifiesCurrentDir(p: string): boolean {
  return goBase(p) === ".";
}
/** A path ending in "/" or "/." must name a directory. */
export function assertsDirectory(p: string): boolean {
  return hasTrailingSeparator(p) || specifiesCurrentDir(p);
}

/** The cleaned path with the original's trailing "/." or "/" put back. */
export function preserveTrailingDotOrSeparator(cleaned: string, original: string): string {
  let out = cleaned;
  if (!specifiesCurrentDir(cleaned) && specifiesCurrentDir(original)) {
    if (!hasTrailingSeparator(out)) out += "/";
    out += ".";
  }
  if (!hasTrailingSeparator(out) && hasTrailingSeparator(original)) out += "/";
  return out;
}

/** The directory and entry of a path ("/a/b/." -> "/a/b" and "."). */
export function splitPathDirEntry(p: string): { dir: string; base: string } {
  let cleaned = goClean(p);
  if (specifiesCurrentDir(p)) cleaned += "/.";
  return { dir: goDir(cleaned), base: goBase(cleaned) };
}

/** A symlink's resolution with the asked path's trailing "/." or "/" kept, and the name to rebase to. */
export function getRebaseName(path: string, resolved: string): { resolved: string; rebaseName: string } {
  let r = resolved;
  if (specifiesCurrentDir(path) && !specifiesCurrentDir(r)) r += "/.";
  if (hasTrailingSeparator(path) && !hasTrailingSeparator(r)) r += "/";
  return { resolved: r, rebaseName: goBase(path) !== goBase(r) ? goBase(path) : "" };
}

export interface CopyInfo {
  path: string;
  exists: boolean;
  isDir: boolean;
  rebaseName: string;
}

/** docker's copy errors (moby's archive package words). */
export const COPY_ERRORS = {
  cannotCopyDir: "cannot copy directory",
  dirNotExists: "no such directory",
  notDirectory: "not a directory",
} as const;

/**
 * Where an archive of `src` goes for the destination `dst` (moby's PrepareArchiveCopy): the
 * directory to extract into and the first name to rename (old -> new), or the copy's error.
 */
export function prepareArchiveCopy(
  src: CopyInfo,
  dst: CopyInfo,
): { dstDir: string; rebase?: { from: string; to: string } } | { error: string } {
  const { dir: dstDir, base: dstBase } = splitPathDirEntry(dst.path);
  let srcBase = splitPathDirEntry(src.path).base;
  if (dst.exists && dst.isDir) return { dstDir: dst.path };
  if (dst.exists && src.isDir) return { error: COPY_ERRORS.cannotCopyDir };
  if (!dst.exists && !src.isDir && assertsDirectory(dst.path)) return { error: COPY_ERRORS.dirNotExists };
  if (src.rebaseName !== "") srcBase = src.rebaseName;
  return { dstDir, rebase: { from: srcBase, to: dstBase } };
}

/** An archive name with its first `from` replaced by `to` (Go's strings.Replace(name, from, to, 1)). */
export function rebaseName(name: string, from: string, to: string): string {
  const old = from === "/" ? "" : from;
  return name.replace(old, () => to);
}
