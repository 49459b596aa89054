// Hole: numbers in a layer's headers were trusted past what the kernel takes. A device of major
// 2^32+1 became major 1 on the way to mknod(2) (so "4294967297:1" was /dev/mem), a uid of
// 4294967295 is chown(2)'s "leave unchanged" (the file stayed root's), larger ids and oversized
// xattrs failed half-way as internal errors. Each is now refused up front, naming the field, with
// nothing written for the entry. Host-side check: the error and the target's contents.
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { Readable } from "node:stream";
import { type TestContext, test } from "node:test";
import type { BerthError } from "../../src/common/errors.ts";
import { applyLayer } from "../../src/containerd/archive/apply.ts";
import { END_OF_ARCHIVE, member, pax, type RawFields } from "../fixtures/raw-tar.ts";

const skip = process.getuid?.() !== 0 ? "needs root (mknod, chown)" : undefined;

async function refused(t: TestContext, tar: Buffer, field: RegExp): Promise<void> {
  const dir = await mkdtemp(`${tmpdir()}/berth-sec-limits-`);
  t.after(() => rm(dir, { recursive: true, force: true }));
  await assert.rejects(applyLayer(Readable.from([tar]), dir, { whiteouts: "plain" }), (err: unknown) => {
    assert.equal((err as BerthError).kind, "invalid-argument", String(err));
    assert.match((err as Error).message, field);
    return true;
  });
  assert.deepEqual(await readdir(dir), []);
}

function one(fields: RawFields, data = ""): Buffer {
  return Buffer.concat([member(fields, data), END_OF_ARCHIVE]);
}

test("device numbers beyond the kernel's 12-bit major / 20-bit minor are refused", { skip }, async (t) => {
  await refused(t, one({ name: "mem", typeflag: "3", devmajor: 2 ** 32 + 1, devminor: 1 }), /device major 4294967297/);
  await refused(t, one({ name: "blk", typeflag: "4", devmajor: 8, devminor: 2 ** 20 }), /device minor 1048576/);
});

test("uids and gids chown(2) cannot set are refused", { skip }, async (t) => {
  await refused(t, one({ name: "f", uid: 4294967295 }, "x"), /uid 4294967295 is out of range/);
  await refused(t, one({ name: "f", gid: 2 ** 32 + 5 }, "x"), /gid 4294967301 is out of range/);
  await refused(t, Buffer.concat([pax([["uid", "4294967295"]]), member({ name: "p" }, "x"), END_OF_ARCHIVE]), /uid/);
});

test("xattrs larger than setxattr(2) takes are refused", { skip }, async (t) => {
  const big = Buffer.alloc(70_000, "v");
  await refused(
    t,
    Buffer.concat([pax([["SCHILY.xattr.user.big", big]]), member({ name: "f" }, "x"), END_OF_ARCHIVE]),
    /xattr "user.big" value is 70000 bytes/,
  );
  await refused(
    t,
    Buffer.concat([pax([[`SCHILY.xattr.user.${"n".repeat(300)}`, "v"]]), member({ name: "f" }, "x"), END_OF_ARCHIVE]),
    /xattr name of 305 bytes/,
  );
  const many: [string, string][] = [];
  for (let i = 0; i < 300; i++) many.push([`SCHILY.xattr.user.${String(i).padStart(240, "k")}`, "v"]);
  await refused(t, Buffer.concat([pax(many), member({ name: "f" }, "x"), END_OF_ARCHIVE]), /xattr names take/);
});
