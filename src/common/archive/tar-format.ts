// The tar format as OCI layers use it (ustar + PAX + the GNU long-name records), as pure encode and
// decode functions over 512-byte blocks. Our own rather than tar-stream's because layers carry
// binary PAX values (SCHILY.xattr.security.capability) that must survive byte for byte.
import type { BigIntStats } from "node:fs";
import { posix } from "node:path";
import { InvalidArgumentError } from "../errors.ts";

export const BLOCK = 512;

// ---- limits: every size an archive states is checked against one of these before it is trusted ----

/**
 * Largest PAX ('x', 'g') or GNU long-name ('L', 'K') record, in bytes. Go's archive/tar (what
 * containerd and Docker read layers with) refuses bigger ones (its maxSpecialFileSize), and a real
 * record (a path, a few xattrs) is far smaller. The reader holds at most one of each kind at a time.
 */
export const MAX_EXTENDED_HEADER = 1 << 20;
/** Linux PATH_MAX: a path of this many bytes or more (with its NUL) cannot reach a syscall. */
export const PATH_MAX = 4096;
/** Linux NAME_MAX: the longest name of one path component that ext4, xfs or overlayfs store. */
export const NAME_MAX = 255;
/** Linux XATTR_NAME_MAX and XATTR_SIZE_MAX: longest xattr name and largest value setxattr(2) takes. */
export const XATTR_NAME_MAX = 255;
export const XATTR_SIZE_MAX = 1 << 16;
/** Linux XATTR_LIST_MAX: listxattr(2) returns at most this many bytes of names (each with its NUL). */
export const XATTR_LIST_MAX = 1 << 16;
/** uid_t/gid_t are 32 bits, and chown(2) reads 0xffffffff ((uid_t)-1) as "leave unchanged". */
export const MAX_ID = 0xfffffffe;
/** The kernel's dev_t: 12 bits of major, 20 of minor; mknod(2) would silently wrap larger ones. */
export const MAX_DEV_MAJOR = 0xfff;
export const MAX_DEV_MINOR = 0xfffff;
/** Times beyond 2^53 seconds (either way) lose integer precision as JS numbers; no file has them. */
const MAX_TIME = Number.MAX_SAFE_INTEGER;

export type TarEntryType = "file" | "hardlink" | "symlink" | "char" | "block" | "dir" | "fifo";

/** One archive member after its PAX / GNU records have been folded in. */
export interface TarEntry {
  name: string;
  type: TarEntryType;
  /** Permission bits including setuid/setgid/sticky (no file type bits). */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch, possibly fractional (PAX). */
  mtime: number;
  atime?: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  /** SCHILY.xattr.* records, values as raw bytes. */
  xattrs: Map<string, Buffer>;
}

/** What a header block says before extended records are applied. */
export interface RawHeader {
  typeflag: string;
  name: string;
  linkname: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  devmajor: number;
  devminor: number;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Paths are bytes on Linux but strings in Node: refuse names that would not survive the trip. */
export function decodeName(bytes: Uint8Array, what: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new InvalidArgumentError(`tar: ${what} is not valid UTF-8: ${Buffer.from(bytes).toString("hex")}`);
  }
}

function cstring(block: Buffer, offset: number, length: number): Buffer {
  const end = block.indexOf(0, offset);
  return block.subarray(offset, end === -1 || end > offset + length ? offset + length : end);
}

function numeric(block: Buffer, offset: number, length: number, field: string): number {
  // GNU base-256: high bit of the first byte set (the rest is big-endian two's complement).
  if ((block[offset]! & 0x80) !== 0) {
    if ((block[offset]! & 0x40) !== 0) throw new InvalidArgumentError(`tar: negative ${field}`);
    let v = block[offset]! & 0x3f;
    for (let i = 1; i < length; i++) v = v * 256 + block[offset + i]!;
    if (!Number.isSafeInteger(v)) throw new InvalidArgumentError(`tar: ${field} too large`);
    return v;
  }
  const text = block
    .toString("latin1", offset, offset + length)
    .replace(/[\0 ]+$/, "")
    .trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw new InvalidArgumentError(`tar: ${field} is not octal: ${JSON.stringify(text)}`);
  return Number.parseInt(text, 8);
}

function checksum(block: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return sum;
}

export function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

/** Decodes one header block; throws InvalidArgumentError for a corrupt one. */
export function decodeHeader(block: Buffer): RawHeader {
  const stored = numeric(block, 148, 8, "checksum");
  if (stored !== checksum(block)) throw new InvalidArgumentError("tar: header checksum mismatch (not a tar archive?)");
  const magic = block.toString("latin1", 257, 263);
  let nameBytes = cstring(block, 0, 100);
  // ustar (not GNU, whose bytes there hold times) splits long names into prefix + "/" + name.
  if (magic === "ustar\0" && block[345] !== 0) {
    nameBytes = Buffer.concat([cstring(block, 345, 155), Buffer.from("/"), nameBytes]);
  }
  return {
    // NUL stays distinct from '0': only a NUL-typed entry whose name ends in "/" is a directory.
    typeflag: String.fromCharCode(block[156]!),
    name: decodeName(nameBytes, "entry name"),
    linkname: decodeName(cstring(block, 157, 100), "link name"),
    mode: numeric(block, 100, 8, "mode") & 0o7777,
    uid: numeric(block, 108, 8, "uid"),
    gid: numeric(block, 116, 8, "gid"),
    size: numeric(block, 124, 12, "size"),
    mtime: numeric(block, 136, 12, "mtime"),
    devmajor: numeric(block, 329, 8, "devmajor"),
    devminor: numeric(block, 337, 8, "devminor"),
  };
}

/**
 * PAX records ("<len> <key>=<value>\n"), values kept as bytes: views into `data`, not copies, so a
 * header of many records costs no more memory than its own bytes (toEntry copies what it keeps).
 */
export function parsePax(data: Buffer): Map<string, Buffer> {
  const records = new Map<string, Buffer>();
  let off = 0;
  while (off < data.length) {
    if (data[off] === 0) break; // some writers pad with NULs
    const space = data.indexOf(0x20, off);
    const len = space === -1 ? Number.NaN : Number.parseInt(data.toString("latin1", off, space), 10);
    if (!Number.isInteger(len) || len <= 0 || off + len > data.length || data[off + len - 1] !== 0x0a) {
      throw new InvalidArgumentError("tar: malformed PAX record");
    }
    const record = data.subarray(space + 1, off + len - 1);
    const eq = record.indexOf(0x3d);
    if (eq === -1) throw new InvalidArgumentError("tar: malformed PAX record (no '=')");
    records.set(decodeName(record.subarray(0, eq), "PAX key"), record.subarray(eq + 1));
    off += len;
  }
  return records;
}

const TYPES: Record<string, TarEntryType> = {
  "\0": "file",
  "0": "file",
  "7": "file",
  "1": "hardlink",
  "2": "symlink",
  "3": "char",
  "4": "block",
  "5": "dir",
  "6": "fifo",
};

const XATTR_PREFIX = "SCHILY.xattr.";

function paxNumber(value: Buffer, key: string, fractional: boolean): number {
  const text = value.toString("latin1");
  const ok = fractional ? /^-?[0-9]+(\.[0-9]+)?$/.test(text) : /^[0-9]+$/.test(text);
  const n = Number(text);
  if (!ok || !Number.isFinite(n) || (!fractional && !Number.isSafeInteger(n)) || Math.abs(n) > MAX_TIME) {
    throw new InvalidArgumentError(`tar: PAX ${key} is not a number: ${JSON.stringify(text.slice(0, 64))}`);
  }
  return n;
}

function refuse(name: string, why: string): never {
  throw new InvalidArgumentError(`tar entry ${JSON.stringify(name.slice(0, 256))}: ${why}`);
}

/** Refuses a path no syscall would take: PATH_MAX bytes or more, or a component over NAME_MAX. */
function checkPath(entry: string, path: string, what: string, components: boolean): void {
  const bytes = Buffer.byteLength(path);
  if (bytes >= PATH_MAX) refuse(entry, `${what} is ${bytes} bytes, longer than PATH_MAX allows (${PATH_MAX - 1})`);
  if (!components) return;
  for (const c of path.split("/")) {
    const n = Buffer.byteLength(c);
    if (n > NAME_MAX) refuse(entry, `${what} has a component of ${n} bytes, longer than NAME_MAX (${NAME_MAX})`);
  }
}

/** The bounds the kernel sets on what an entry asks for (ids, devices, xattrs), checked up front. */
function checkLimits(e: TarEntry): void {
  checkPath(e.name, e.name, "name", true);
  // A symlink's target is stored, not resolved: only its length is bounded. A hard link's names a path.
  checkPath(e.name, e.linkname, "link name", e.type === "hardlink");
  if (e.uid > MAX_ID) refuse(e.name, `uid ${e.uid} is out of range (0-${MAX_ID})`);
  if (e.gid > MAX_ID) refuse(e.name, `gid ${e.gid} is out of range (0-${MAX_ID})`);
  if (e.type === "char" || e.type === "block") {
    if (e.devmajor > MAX_DEV_MAJOR) refuse(e.name, `device major ${e.devmajor} is out of range (0-${MAX_DEV_MAJOR})`);
    if (e.devminor > MAX_DEV_MINOR) refuse(e.name, `device minor ${e.devminor} is out of range (0-${MAX_DEV_MINOR})`);
  }
  let names = 0;
  for (const [key, value] of e.xattrs) {
    const n = Buffer.byteLength(key);
    if (n === 0 || n > XATTR_NAME_MAX) refuse(e.name, `xattr name of ${n} bytes (1-${XATTR_NAME_MAX})`);
    if (value.length > XATTR_SIZE_MAX) {
      refuse(e.name, `xattr ${JSON.stringify(key)} value is ${value.length} bytes, more than ${XATTR_SIZE_MAX}`);
    }
    names += n + 1;
  }
  if (names > XATTR_LIST_MAX) refuse(e.name, `xattr names take ${names} bytes, more than ${XATTR_LIST_MAX}`);
}

/**
 * Folds extended records into a member header as Go's archive/tar does (so a layer reads here as
 * it reads in containerd): `pax` is the member's own 'x' record set; an empty PAX value keeps the
 * header's field; a GNU 'L'/'K' name (`longName`/`longLink`) wins over a PAX path. Then checks
 * every field against the kernel's limits.
 */
/** A PAX path value: no NUL inside (a header field ends there, so its meaning is ambiguous; Go's reader refuses it too). */
function paxText(value: Buffer, key: string): Buffer {
  if (value.includes(0)) throw new InvalidArgumentError(`tar: PAX ${key} holds a NUL byte`);
  return value;
}

export function toEntry(h: RawHeader, pax: Map<string, Buffer>, longName?: string, longLink?: string): TarEntry {
  let type = TYPES[h.typeflag];
  if (type === undefined) {
    const what = h.typeflag === "S" ? "GNU sparse files are not supported" : `unsupported type '${h.typeflag}'`;
    throw new InvalidArgumentError(`tar entry ${JSON.stringify(h.name)}: ${what}`);
  }
  let name = h.name;
  let linkname = h.linkname;
  const { typeflag: _typeflag, ...fields } = h;
  const entry: TarEntry = { ...fields, type, name, linkname, xattrs: new Map() };
  for (const [key, value] of pax) {
    if (key.startsWith("GNU.sparse.")) {
      throw new InvalidArgumentError(`tar entry ${JSON.stringify(name)}: GNU sparse files are not supported`);
    }
    if (value.length === 0 && !key.startsWith(XATTR_PREFIX)) continue;
    if (key === "path") name = decodeName(paxText(value, key), "PAX path");
    else if (key === "linkpath") linkname = decodeName(paxText(value, key), "PAX linkpath");
    else if (key === "size") entry.size = paxNumber(value, key, false);
    else if (key === "uid") entry.uid = paxNumber(value, key, false);
    else if (key === "gid") entry.gid = paxNumber(value, key, false);
    else if (key === "mtime") entry.mtime = paxNumber(value, key, true);
    else if (key === "atime") entry.atime = paxNumber(value, key, true);
    else if (key.startsWith(XATTR_PREFIX)) entry.xattrs.set(key.slice(XATTR_PREFIX.length), Buffer.from(value));
  }
  if (longName) name = longName;
  if (longLink) linkname = longLink;
  // Old (v7) archives, whose regular files have a NUL type, mark directories by a trailing slash.
  if (h.typeflag === "\0" && name.endsWith("/")) type = "dir";
  entry.type = type;
  entry.name = name;
  entry.linkname = linkname;
  // Only regular files have data (as Go's reader: other types are header-only, whatever size says).
  if (type !== "file") entry.size = 0;
  checkLimits(entry);
  return entry;
}

// ---- encoding ----

const TYPEFLAG: Record<TarEntryType, string> = {
  file: "0",
  hardlink: "1",
  symlink: "2",
  char: "3",
  block: "4",
  dir: "5",
  fifo: "6",
};

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from("\n")]);
  // The length prefix counts itself: grow it until it is self-consistent.
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

function writeOctal(block: Buffer, offset: number, length: number, value: number): boolean {
  const text = Math.trunc(value).toString(8);
  if (value < 0 || text.length > length - 1) return false;
  block.write(text.padStart(length - 1, "0"), offset, "latin1");
  block[offset + length - 1] = 0;
  return true;
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

function headerBlock(
  name: Buffer,
  typeflag: string,
  e: Pick<TarEntry, "mode" | "uid" | "gid" | "size" | "mtime" | "devmajor" | "devminor">,
  linkname: Buffer,
): { block: Buffer; fits: boolean } {
  const block = Buffer.alloc(BLOCK);
  let fits = name.length <= 100 && linkname.length <= 100;
  name.copy(block, 0, 0, Math.min(100, name.length));
  writeOctal(block, 100, 8, e.mode & 0o7777);
  fits = writeOctal(block, 108, 8, e.uid) && fits;
  fits = writeOctal(block, 116, 8, e.gid) && fits;
  fits = writeOctal(block, 124, 12, e.size) && fits;
  fits = writeOctal(block, 136, 12, Math.max(0, Math.floor(e.mtime))) && fits;
  block.write(typeflag, 156, "latin1");
  linkname.copy(block, 157, 0, Math.min(100, linkname.length));
  block.write("ustar\0" + "00", 257, "latin1");
  writeOctal(block, 329, 8, e.devmajor);
  writeOctal(block, 337, 8, e.devminor);
  block.write(`${checksum(block).toString(8).padStart(6, "0")}\0 `, 148, "latin1");
  return { block, fits };
}

/**
 * The header blocks for one member: a PAX record block first when something does not fit ustar
 * (long or non-ASCII names, big ids or sizes, sub-second mtimes, xattrs). Deterministic.
 */
export function encodeHeader(e: TarEntry): Buffer {
  const name = Buffer.from(e.type === "dir" && !e.name.endsWith("/") ? `${e.name}/` : e.name);
  const linkname = Buffer.from(e.linkname);
  const size = e.type === "file" ? e.size : 0;
  const { block, fits } = headerBlock(name, TYPEFLAG[e.type], { ...e, size }, linkname);
  const records: Buffer[] = [];
  const ascii = (b: Buffer) => b.every((c) => c < 0x80);
  if (name.length > 100 || !ascii(name)) records.push(paxRecord("path", name));
  if (linkname.length > 100 || !ascii(linkname)) records.push(paxRecord("linkpath", linkname));
  if (!fits) {
    if (!writeOctal(Buffer.alloc(8), 0, 8, e.uid)) records.push(paxRecord("uid", Buffer.from(String(e.uid))));
    if (!writeOctal(Buffer.alloc(8), 0, 8, e.gid)) records.push(paxRecord("gid", Buffer.from(String(e.gid))));
    if (!writeOctal(Buffer.alloc(12), 0, 12, size)) records.push(paxRecord("size", Buffer.from(String(size))));
  }
  if (!Number.isInteger(e.mtime) || e.mtime < 0 || !writeOctal(Buffer.alloc(12), 0, 12, e.mtime)) {
    records.push(paxRecord("mtime", Buffer.from(formatTime(e.mtime))));
  }
  for (const key of [...e.xattrs.keys()].sort()) {
    records.push(paxRecord(XATTR_PREFIX + key, e.xattrs.get(key)!));
  }
  if (records.length === 0) return block;
  const pax = Buffer.concat(records);
  const paxName = Buffer.from(`PaxHeaders.0/${e.name.replace(/\/$/, "").split("/").pop()!.slice(0, 80)}`);
  const paxHeader = headerBlock(
    paxName.subarray(0, 100),
    "x",
    { ...e, size: pax.length, uid: 0, gid: 0 },
    Buffer.alloc(0),
  );
  return Buffer.concat([paxHeader.block, pax, Buffer.alloc(padding(pax.length)), block]);
}

function formatTime(seconds: number): string {
  // Nanosecond precision at most, no trailing zeros (as Go's archive/tar writes it).
  const fixed = seconds.toFixed(9).replace(/\.?0+$/, "");
  return fixed === "" || fixed === "-" ? "0" : fixed;
}

export function paddingFor(size: number): number {
  return padding(size);
}

/** The archive's end: two zero blocks. */
export const END_OF_ARCHIVE = Buffer.alloc(BLOCK * 2);

/**
 * A path in the archive as components under the root: absolute paths become relative, "." and
 * ".." are folded lexically. null when it escapes the root.
 */
export function cleanPath(name: string): string[] | null {
  if (name.includes("\0")) return null;
  const normal = posix.normalize(`./${name}`);
  if (normal === ".." || normal.startsWith("../")) return null;
  // normalize keeps a leading "/" for "//x"-style names; strip it: archive paths are root-relative.
  return normal.split("/").filter((c) => c !== "" && c !== ".");
}

/** The tar type of a file (lstat), or null for a socket, which tar does not archive. */
export function entryTypeOf(st: BigIntStats): TarEntryType | null {
  if (st.isFile()) return "file";
  if (st.isDirectory()) return "dir";
  if (st.isSymbolicLink()) return "symlink";
  if (st.isCharacterDevice()) return "char";
  if (st.isBlockDevice()) return "block";
  if (st.isFIFO()) return "fifo";
  return null;
}

/** Linux dev_t -> major (glibc's encoding). */
export function devMajor(rdev: bigint): number {
  return Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
}

/** Linux dev_t -> minor (glibc's encoding). */
export function devMinor(rdev: bigint): number {
  return Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
}
