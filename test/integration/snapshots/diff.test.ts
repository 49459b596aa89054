// writeDiff against the real file system: round trips (applyLayer(writeDiff(x)) reproduces x) for
// an overlay upper and for two plain trees, deterministic output, gzip.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmod, chown, link, mkdir, rm, symlink, unlink, utimes, writeFile } from "node:fs/promises";
import { Writable } from "node:stream";
import { test } from "node:test";
import { gunzipSync } from "node:zlib";
import { sharedFsops } from "../../../src/common/archive/fsops.ts";
import { applyLayer } from "../../../src/containerd/archive/apply.ts";
import { type DiffSource, writeDiff } from "../../../src/containerd/archive/diff.ts";
import { rawTar, sha256, streamOf, tempDir, treeOf } from "./layer-helpers.ts";

async function diffBytes(source: DiffSource, compression: "none" | "gzip" = "none") {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk);
      done();
    },
  });
  const result = await writeDiff(source, sink, { compression });
  return { bytes: Buffer.concat(chunks), result };
}

function entryNames(tar: Buffer): string[] {
  const dir = execFileSync("tar", ["-tf", "-"], { input: tar }).toString().trim();
  return dir === "" ? [] : dir.split("\n");
}

const LAYER = rawTar([
  { entry: { name: "etc", type: "dir", mode: 0o755 } },
  { entry: { name: "etc/conf", type: "file", mode: 0o640, uid: 5, gid: 6 }, data: Buffer.from("conf") },
  { entry: { name: "etc/hard", type: "hardlink", linkname: "etc/conf" } },
  { entry: { name: "etc/.wh.removed", type: "file" } },
  { entry: { name: "bin", type: "dir", mode: 0o755 } },
  { entry: { name: "bin/sh", type: "symlink", linkname: "busybox", uid: 1 } },
  { entry: { name: "bin/su", type: "file", mode: 0o4755 }, data: Buffer.from("su") },
  { entry: { name: "dev", type: "dir", mode: 0o755 } },
  { entry: { name: "dev/null", type: "char", mode: 0o666, devmajor: 1, devminor: 3 } },
  { entry: { name: "dev/fifo", type: "fifo", mode: 0o600 } },
  { entry: { name: "opq", type: "dir", mode: 0o700 } },
  { entry: { name: "opq/.wh..wh..opq", type: "file" } },
  {
    entry: { name: "opq/x", type: "file", xattrs: new Map([["trusted.k", Buffer.from([0, 255])]]) },
    data: Buffer.alloc(70_000, 3),
  },
  { entry: { name: `long/${"n".repeat(200)}`, type: "file", uid: 3_000_000 }, data: Buffer.from("long") },
]);

test("overlay diff round trip: whiteouts, opaque dirs, hard links, devices, xattrs, long names", async (t) => {
  const upper = await tempDir(t);
  await applyLayer(streamOf(LAYER), upper, { whiteouts: "overlay" });
  const { bytes, result } = await diffBytes({ kind: "overlay", upper });
  assert.equal(result.diffId, sha256(bytes));
  assert.equal(result.digest, result.diffId);
  assert.equal(result.size, bytes.length);
  const names = entryNames(bytes);
  assert.ok(names.includes("etc/.wh.removed"), names.join(","));
  assert.ok(names.indexOf("opq/.wh..wh..opq") === names.indexOf("opq/") + 1, names.join(","));
  const again = await tempDir(t);
  const applied = await applyLayer(streamOf(bytes), again, { whiteouts: "overlay" });
  assert.equal(applied.diffId, result.diffId);
  assert.deepEqual(await treeOf(again, { dirMtimes: true }), await treeOf(upper, { dirMtimes: true }));
  // Deterministic: the same tree gives the same bytes.
  assert.ok((await diffBytes({ kind: "overlay", upper })).bytes.equals(bytes));
  // And the round trip reproduces it: the diff of the copy is the same layer.
  assert.ok((await diffBytes({ kind: "overlay", upper: again })).bytes.equals(bytes));
});

test("plain diff round trip: added, changed (content, mode, owner, mtime, xattr, type), deleted", async (t) => {
  const base = await tempDir(t);
  const lower = `${base}/lower`;
  const upper = `${base}/upper`;
  await mkdir(lower);
  await applyLayer(streamOf(LAYER), lower, { whiteouts: "plain" });
  await mkdir(`${lower}/gone-dir/sub`, { recursive: true });
  await writeFile(`${lower}/gone-dir/sub/f`, "x");
  await writeFile(`${lower}/same-size`, "aaaa");
  await utimes(`${lower}/same-size`, 1_600_000_000, 1_600_000_000);
  await writeFile(`${lower}/file-to-dir`, "f");
  await mkdir(`${lower}/dir-to-file`);
  await writeFile(`${lower}/dir-to-file/inner`, "i");
  execFileSync("cp", ["-a", `${lower}/.`, upper]);

  await writeFile(`${upper}/etc/added`, "new");
  await writeFile(`${upper}/bin/su`, "changed content");
  await chmod(`${upper}/dev/fifo`, 0o644);
  await chown(`${upper}/opq/x`, 77, 88);
  await sharedFsops().lsetxattr(`${upper}/bin`, "user.flag", Buffer.from("1"));
  // Same size, same second-truncated mtime, different bytes: only a content compare sees it.
  await writeFile(`${upper}/same-size`, "bbbb");
  await utimes(`${upper}/same-size`, 1_600_000_000, 1_600_000_000);
  await rm(`${upper}/gone-dir`, { recursive: true });
  await unlink(`${upper}/dev/null`);
  await unlink(`${upper}/file-to-dir`);
  await mkdir(`${upper}/file-to-dir`);
  await writeFile(`${upper}/file-to-dir/inside`, "in");
  await rm(`${upper}/dir-to-file`, { recursive: true });
  await symlink("elsewhere", `${upper}/dir-to-file`);
  await link(`${upper}/etc/added`, `${upper}/etc/added-too`);

  const { bytes, result } = await diffBytes({ kind: "plain", lower, upper });
  const names = entryNames(bytes);
  assert.ok(names.includes("gone-dir/.wh..wh..opq") === false);
  for (const n of ["gone-dir", "dev/null"]) {
    const wh = n.replace(/([^/]+)$/, ".wh.$1");
    assert.ok(names.includes(wh), `${wh} in ${names.join(",")}`);
  }
  assert.ok(!names.some((n) => n.startsWith("long/")), "unchanged entries are not written");
  assert.ok(names.includes("same-size"));

  const target = `${base}/target`;
  execFileSync("cp", ["-a", `${lower}/.`, target]);
  const applied = await applyLayer(streamOf(bytes), target, { whiteouts: "plain" });
  assert.equal(applied.diffId, result.diffId);
  assert.deepEqual(await treeOf(target, { dirMtimes: true }), await treeOf(upper, { dirMtimes: true }));
});

test("plain diff: an unchanged tree is an empty layer; no lower means everything is added", async (t) => {
  const base = await tempDir(t);
  await mkdir(`${base}/a`);
  await applyLayer(streamOf(LAYER), `${base}/a`, { whiteouts: "plain" });
  execFileSync("cp", ["-a", `${base}/a`, `${base}/b`]);
  const empty = await diffBytes({ kind: "plain", lower: `${base}/a`, upper: `${base}/b` });
  assert.deepEqual(entryNames(empty.bytes), []);
  assert.equal(empty.bytes.length, 1024);
  const all = await diffBytes({ kind: "plain", lower: null, upper: `${base}/a` });
  const fresh = `${base}/c`;
  await mkdir(fresh);
  await applyLayer(streamOf(all.bytes), fresh, { whiteouts: "plain" });
  assert.deepEqual(await treeOf(fresh), await treeOf(`${base}/a`));
});

test("gzip output: digest of the compressed bytes, diffID of the tar inside", async (t) => {
  const upper = await tempDir(t);
  await applyLayer(streamOf(LAYER), upper, { whiteouts: "overlay" });
  const plain = await diffBytes({ kind: "overlay", upper });
  const gz = await diffBytes({ kind: "overlay", upper }, "gzip");
  assert.equal(gz.result.digest, sha256(gz.bytes));
  assert.equal(gz.result.size, gz.bytes.length);
  assert.equal(gz.result.diffId, plain.result.diffId);
  assert.equal(gz.result.uncompressedSize, plain.bytes.length);
  assert.ok(gunzipSync(gz.bytes).equals(plain.bytes));
  // A consumer that stops reading is an error, not a hang.
  const broken = new Writable({
    write(_chunk, _enc, done) {
      done(new Error("consumer went away"));
    },
  });
  await assert.rejects(writeDiff({ kind: "overlay", upper }, broken), /consumer went away/);
});
