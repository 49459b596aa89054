import assert from "node:assert/strict";
import { test } from "node:test";
import {
  BLOCK,
  decodeHeader,
  encodeHeader,
  MAX_DEV_MAJOR,
  MAX_ID,
  NAME_MAX,
  PATH_MAX,
  parsePax,
  type TarEntry,
  toEntry,
  XATTR_SIZE_MAX,
} from "./tar-format.ts";

const base: TarEntry = {
  name: "a/b",
  type: "file",
  mode: 0o4755,
  uid: 1,
  gid: 2,
  size: 5,
  mtime: 1_600_000_000,
  linkname: "",
  devmajor: 0,
  devminor: 0,
  xattrs: new Map(),
};

/** Decodes what encodeHeader wrote, folding a PAX block in as the reader does. */
function roundTrip(e: TarEntry): TarEntry {
  const bytes = encodeHeader(e);
  const first = decodeHeader(bytes.subarray(0, BLOCK));
  if (first.typeflag !== "x") return toEntry(first, new Map());
  const paxEnd = BLOCK + Math.ceil(first.size / BLOCK) * BLOCK;
  const pax = parsePax(bytes.subarray(BLOCK, BLOCK + first.size));
  return toEntry(decodeHeader(bytes.subarray(paxEnd, paxEnd + BLOCK)), pax);
}

test("ustar fields round trip; special mode bits kept", () => {
  const out = roundTrip(base);
  assert.equal(encodeHeader(base).length, BLOCK);
  assert.deepEqual({ ...out, xattrs: [...out.xattrs] }, { ...base, xattrs: [] });
});

test("PAX carries long and non-ASCII names, big ids and binary xattrs", () => {
  const e: TarEntry = {
    ...base,
    name: `${"x".repeat(150)}/ü`,
    uid: 3_000_000,
    type: "symlink",
    size: 0,
    linkname: "l".repeat(120),
    xattrs: new Map([["security.capability", Buffer.from([0, 0xff, 0x0a, 0x3d])]]),
  };
  const out = roundTrip(e);
  assert.equal(out.name, e.name);
  assert.equal(out.linkname, e.linkname);
  assert.equal(out.uid, 3_000_000);
  assert.deepEqual(out.xattrs.get("security.capability"), Buffer.from([0, 0xff, 0x0a, 0x3d]));
});

test("directories get a trailing slash; devices keep major/minor", () => {
  const d = roundTrip({ ...base, type: "dir", size: 0 });
  assert.equal(d.type, "dir");
  assert.equal(d.name, "a/b/");
  const c = roundTrip({ ...base, type: "char", size: 0, devmajor: 10, devminor: 200 });
  assert.deepEqual([c.type, c.devmajor, c.devminor], ["char", 10, 200]);
});

test("a corrupt checksum, a malformed PAX record and sparse files are refused", () => {
  const bytes = Buffer.from(encodeHeader(base));
  bytes[0] = 0x7a;
  assert.throws(() => decodeHeader(bytes), /checksum/);
  assert.throws(() => parsePax(Buffer.from("99 path=x\n")), /malformed PAX/);
  assert.throws(() => toEntry({ ...decodeHeader(encodeHeader(base)), typeflag: "S" }, new Map()), /sparse/);
  assert.throws(
    () => toEntry(decodeHeader(encodeHeader(base)), new Map([["GNU.sparse.map", Buffer.from("")]])),
    /sparse/,
  );
});

test("names that are not UTF-8 are refused rather than mangled", () => {
  const bytes = Buffer.from(encodeHeader(base));
  bytes[0] = 0xff;
  let sum = 0;
  bytes.fill(0x20, 148, 156);
  for (let i = 0; i < BLOCK; i++) sum += bytes[i]!;
  bytes.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
  assert.throws(() => decodeHeader(bytes), /not valid UTF-8/);
});

test("folding follows Go's reader: GNU long names win, empty PAX values keep the header's, NUL+slash is a dir", () => {
  const h = decodeHeader(encodeHeader(base));
  assert.equal(toEntry(h, new Map([["path", Buffer.from("pax")]]), "gnu").name, "gnu");
  assert.equal(toEntry(h, new Map([["path", Buffer.alloc(0)]])).name, "a/b");
  assert.equal(toEntry(h, new Map([["SCHILY.xattr.user.e", Buffer.alloc(0)]])).xattrs.get("user.e")?.length, 0);
  assert.equal(toEntry({ ...h, name: "d/", typeflag: "\0" }, new Map()).type, "dir");
  assert.equal(toEntry({ ...h, name: "d/", typeflag: "0" }, new Map()).type, "file");
  assert.equal(toEntry({ ...h, typeflag: "5", size: 4096 }, new Map()).size, 0);
});

test("fields past the kernel's limits are refused, naming them", () => {
  const h = decodeHeader(encodeHeader(base));
  const refused = (raw: typeof h, pax: [string, Buffer][], message: RegExp) =>
    assert.throws(() => toEntry(raw, new Map(pax)), message);
  refused({ ...h, name: "x".repeat(PATH_MAX) }, [], /name is 4096 bytes/);
  refused({ ...h, name: `a/${"c".repeat(NAME_MAX + 1)}` }, [], /component of 256 bytes/);
  refused({ ...h, typeflag: "1", linkname: "l".repeat(PATH_MAX) }, [], /link name is 4096 bytes/);
  refused({ ...h, uid: MAX_ID + 1 }, [], /uid 4294967295/);
  refused({ ...h, typeflag: "3", devmajor: MAX_DEV_MAJOR + 1 }, [], /device major 4096/);
  refused(h, [["SCHILY.xattr.user.v", Buffer.alloc(XATTR_SIZE_MAX + 1)]], /value is 65537 bytes/);
  refused(h, [["mtime", Buffer.from(`1${"0".repeat(20)}`)]], /PAX mtime is not a number/);
  // A symlink's target is stored, not looked up: long components are its own business.
  assert.equal(toEntry({ ...h, typeflag: "2", linkname: "c".repeat(300) }, new Map()).linkname.length, 300);
});
