// The stat dockerd sends with docker cp (HEAD and GET /containers/{id}/archive): the header
// X-Docker-Container-Path-Stat, base64 of JSON {name, size, mode, mtime, linkTarget}, where mode
// is Go's os.FileMode (type bits high, permission bits low) and mtime Go's time.Time text. The
// docker CLI decides from it whether a path is a directory or a symlink: berthd encodes it, the
// CLI (berth cp) decodes it. Pure.
import { type BigIntStats, constants } from "node:fs";

export const PATH_STAT_HEADER = "X-Docker-Container-Path-Stat";

/** Go's os.FileMode bits (io/fs). */
export const GO_MODE = {
  dir: 2 ** 31,
  symlink: 2 ** 27,
  device: 2 ** 26,
  namedPipe: 2 ** 25,
  socket: 2 ** 24,
  setuid: 2 ** 23,
  setgid: 2 ** 22,
  charDevice: 2 ** 21,
  sticky: 2 ** 20,
} as const;

/** Go's type bits of each file type of st_mode (S_IFMT). */
const TYPE_BITS = new Map<number, number>([
  [constants.S_IFDIR, GO_MODE.dir],
  [constants.S_IFLNK, GO_MODE.symlink],
  [constants.S_IFBLK, GO_MODE.device],
  [constants.S_IFCHR, GO_MODE.device + GO_MODE.charDevice],
  [constants.S_IFIFO, GO_MODE.namedPipe],
  [constants.S_IFSOCK, GO_MODE.socket],
  [constants.S_IFREG, 0],
]);

/** A stat(2) st_mode as Go's os.FileMode. */
export function goFileMode(stMode: number): number {
  let mode = (stMode & 0o777) + (TYPE_BITS.get(stMode & constants.S_IFMT) ?? 0);
  if (stMode & 0o4000) mode += GO_MODE.setuid;
  if (stMode & 0o2000) mode += GO_MODE.setgid;
  if (stMode & 0o1000) mode += GO_MODE.sticky;
  return mode;
}

/** Nanoseconds since the epoch as Go's time.Time marshals in UTC (RFC 3339, trailing zeros dropped). */
export function goTime(ns: bigint): string {
  const seconds = ns / 1_000_000_000n;
  let frac = ns % 1_000_000_000n;
  let whole = seconds;
  if (frac < 0n) {
    frac += 1_000_000_000n;
    whole -= 1n;
  }
  const base = new Date(Number(whole) * 1000).toISOString().slice(0, 19);
  const digits = frac.toString().padStart(9, "0").replace(/0+$/, "");
  return `${base}${digits === "" ? "" : `.${digits}`}Z`;
}

export interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

/** The stat of an entry as dockerd's StatPath builds it (`name`: the base of the path asked for). */
export function pathStat(name: string, st: BigIntStats, linkTarget: string): PathStat {
  return { name, size: Number(st.size), mode: goFileMode(Number(st.mode)), mtime: goTime(st.mtimeNs), linkTarget };
}

/** The header's value. */
export function encodePathStat(s: PathStat): string {
  return Buffer.from(JSON.stringify(s)).toString("base64");
}

/** A header's value read back (a daemon's word: any field may be missing or of the wrong type). */
export function decodePathStat(value: string | undefined): PathStat | undefined {
  if (value === undefined) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(value, "base64").toString("utf8"));
  } catch {
    return undefined;
  }
  if (typeof v !== "object" || v === null) return undefined;
  const o = v as Record<string, unknown>;
  const mode = typeof o.mode === "number" && Number.isSafeInteger(o.mode) && o.mode >= 0 ? o.mode : 0;
  return {
    name: typeof o.name === "string" ? o.name : "",
    size: typeof o.size === "number" ? o.size : 0,
    mode,
    mtime: typeof o.mtime === "string" ? o.mtime : "",
    linkTarget: typeof o.linkTarget === "string" ? o.linkTarget : "",
  };
}

/** Whether Go's os.FileMode `mode` has the type bit `bit` (GO_MODE.dir, GO_MODE.symlink, ...). */
export function hasModeBit(mode: number, bit: number): boolean {
  return Math.floor(mode / bit) % 2 === 1;
}

/**
 * The path asked for as dockerd reads it: absolute, cleaned, with a trailing "/." or "/" kept
 * (they mean "the contents" and "must be a directory"); its base name for the stat and the tar.
 */
export function containerPath(raw: string): { abs: string; base: string; contents: boolean; mustBeDir: boolean } {
  const parts: string[] = [];
  for (const c of raw.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") parts.pop();
    else parts.push(c);
  }
  const contents = raw.endsWith("/.") || raw === ".";
  const mustBeDir = raw.endsWith("/") || contents;
  const abs = `/${parts.join("/")}`;
  // Go's filepath.Base of the path dockerd keeps ("/x/." -> ".", "/" -> "/").
  const base = contents ? "." : parts.length === 0 ? "/" : parts.at(-1)!;
  return { abs, base, contents, mustBeDir };
}
