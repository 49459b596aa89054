import assert from "node:assert/strict";
import { test } from "node:test";
import { BLOCK, decodeHeader, encodeHeader, parsePax, type TarEntry, toEntry } from "./tar-format.ts";

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
