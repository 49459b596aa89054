// applyLayer against the real file system (root: owners, devices, trusted.* xattrs): every entry
// kind, compression by magic, both whiteout modes, and layers crafted to escape the target.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, readFileSync } from "node:fs";
import { lstat, mkdir, readdir, readFile, readlink, stat, symlink, writeFile } from "node:fs/promises";
import { Readable } from "node:stream";
import { test } from "node:test";
import { gzipSync, zstdCompressSync } from "node:zlib";
import { sharedFsops } from "../../../src/common/archive/fsops.ts";
import type { BerthError } from "../../../src/common/errors.ts";
import { applyLayer } from "../../../src/containerd/archive/apply.ts";
import { rawTar, sha256, streamOf, tarOf, tempDir } from "./layer-helpers.ts";

const MTIME = 1_600_000_000;

function refused(entryName: string) {
  return (err: unknown) => {
    assert.equal((err as BerthError).kind, "invalid-argument", String(err));
    assert.match((err as Error).message, new RegExp(entryName.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
    return true;
  };
}

test("apply: files, dirs, symlinks, hard links, owners, special modes, mtimes; diffID is the tar's sha256", async (t) => {
  const dir = await tempDir(t);
  const tar = await tarOf([
    { header: { name: "bin", type: "directory", mode: 0o755, uid: 0, gid: 0 } },
    { header: { name: "bin/su", mode: 0o4755, uid: 0, gid: 0 }, content: "suid" },
    { header: { name: "bin/sg", mode: 0o2711, uid: 10, gid: 20 }, content: "sgid" },
    { header: { name: "tmp", type: "directory", mode: 0o1777 } },
    { header: { name: "home/user/file", mode: 0o600, uid: 1000, gid: 1001 }, content: "data" },
    { header: { name: "bin/sh", type: "symlink", linkname: "/bin/busybox", uid: 7, gid: 8 } },
    { header: { name: "bin/su2", type: "link", linkname: "bin/su" } },
    { header: { name: "./etc/", type: "directory", mode: 0o750, uid: 3, gid: 4 } },
    { header: { name: "/etc/abs", mode: 0o644 }, content: "absolute names are relative to the root" },
  ]);
  const r = await applyLayer(streamOf(tar, 700), dir, { whiteouts: "plain" });
  assert.equal(r.diffId, sha256(tar));
  assert.equal(r.size, tar.length);
  const su = await lstat(`${dir}/bin/su`);
  assert.equal(su.mode & 0o7777, 0o4755);
  assert.equal((await lstat(`${dir}/bin/sg`)).mode & 0o7777, 0o2711);
  assert.equal((await lstat(`${dir}/bin/sg`)).uid, 10);
  assert.equal((await lstat(`${dir}/tmp`)).mode & 0o7777, 0o1777);
  const f = await lstat(`${dir}/home/user/file`);
  assert.deepEqual([f.uid, f.gid, f.mode & 0o7777], [1000, 1001, 0o600]);
  assert.equal(Math.floor(f.mtimeMs / 1000), MTIME);
  assert.equal(await readlink(`${dir}/bin/sh`), "/bin/busybox");
  const sh = await lstat(`${dir}/bin/sh`);
  assert.deepEqual([sh.uid, sh.gid, Math.floor(sh.mtimeMs / 1000)], [7, 8, MTIME]);
  assert.equal((await lstat(`${dir}/bin/su2`)).ino, su.ino);
  const etc = await lstat(`${dir}/etc`);
  assert.deepEqual([etc.uid, etc.gid, etc.mode & 0o7777], [3, 4, 0o750]);
  // Directory times are set last, after their children were created.
  assert.equal(Math.floor((await lstat(`${dir}/bin`)).mtimeMs / 1000), MTIME);
  assert.equal(await readFile(`${dir}/etc/abs`, "utf8"), "absolute names are relative to the root");
  // Parents the layer does not list are created.
  assert.ok((await lstat(`${dir}/home/user`)).isDirectory());
});

test("apply: gzip, zstd and plain inputs give the same tree and diffID; progress counts input bytes", async (t) => {
  const big = Buffer.alloc(3 << 20);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7919) & 0xff;
  const tar = await tarOf([{ header: { name: "big" }, content: big }]);
  for (const [name, input] of [
    ["plain", tar],
    ["gzip", gzipSync(tar)],
    ["zstd", zstdCompressSync(tar)],
  ] as const) {
    const dir = await tempDir(t);
    let progress = 0;
    const r = await applyLayer(streamOf(input), dir, {
      whiteouts: "overlay",
      onProgress: (n) => {
        progress = n;
      },
    });
    assert.equal(r.diffId, sha256(tar), name);
    assert.equal(r.size, tar.length, name);
    assert.equal(progress, input.length, name);
    assert.ok((await readFile(`${dir}/big`)).equals(big), name);
  }
});

test("apply: character and block devices and fifos", async (t) => {
  const dir = await tempDir(t);
  const tar = await tarOf([
    { header: { name: "dev/null", type: "character-device", devmajor: 1, devminor: 3, mode: 0o666 } },
    { header: { name: "dev/loop9", type: "block-device", devmajor: 7, devminor: 9, mode: 0o660, gid: 6 } },
    { header: { name: "run/fifo", type: "fifo", mode: 0o620 } },
  ]);
  await applyLayer(streamOf(tar), dir, { whiteouts: "plain" });
  const n = await lstat(`${dir}/dev/null`);
  assert.ok(n.isCharacterDevice());
  assert.equal(n.rdev, (1 << 8) | 3);
  assert.equal(n.mode & 0o7777, 0o666);
  const l = await lstat(`${dir}/dev/loop9`);
  assert.ok(l.isBlockDevice());
  assert.equal(l.rdev, (7 << 8) | 9);
  assert.equal(l.gid, 6);
  const ff = await lstat(`${dir}/run/fifo`);
  assert.ok(ff.isFIFO());
  assert.equal(ff.mode & 0o7777, 0o620);
});

test("apply: PAX xattrs, text and binary, survive byte for byte (and after chown)", async (t) => {
  const dir = await tempDir(t);
  const binary = Buffer.from([0, 1, 0xff, 0xfe, 0x80, 10, 61]);
  const tar = rawTar([
    { entry: { name: "d", type: "dir", mode: 0o755, xattrs: new Map([["user.dir", Buffer.from("on dir")]]) } },
    {
      entry: {
        name: "d/f",
        type: "file",
        uid: 5,
        xattrs: new Map([
          ["trusted.bin", binary],
          ["user.t", Buffer.from("x")],
        ]),
      },
      data: Buffer.from("content"),
    },
    { entry: { name: "d/l", type: "symlink", linkname: "f", xattrs: new Map([["trusted.onlink", Buffer.from("l")]]) } },
  ]);
  await applyLayer(streamOf(tar), dir, { whiteouts: "plain" });
  const fsops = sharedFsops();
  assert.deepEqual(await fsops.lgetxattr(`${dir}/d`, "user.dir"), Buffer.from("on dir"));
  assert.deepEqual(await fsops.lgetxattr(`${dir}/d/f`, "trusted.bin"), binary);
  assert.deepEqual(await fsops.lgetxattr(`${dir}/d/f`, "user.t"), Buffer.from("x"));
  assert.deepEqual(await fsops.lgetxattr(`${dir}/d/l`, "trusted.onlink"), Buffer.from("l"));
  assert.equal(await readFile(`${dir}/d/f`, "utf8"), "content");
  // tar-stream's PAX text values work too.
  const dir2 = await tempDir(t);
  await applyLayer(
    streamOf(await tarOf([{ header: { name: "g", pax: { "SCHILY.xattr.user.k": "v" } }, content: "g" }])),
    dir2,
    { whiteouts: "plain" },
  );
  assert.deepEqual(await fsops.lgetxattr(`${dir2}/g`, "user.k"), Buffer.from("v"));
});

test("apply overlay whiteouts: .wh.<name> is a 0/0 char device, .wh..wh..opq marks the dir opaque", async (t) => {
  const dir = await tempDir(t);
  await mkdir(`${dir}/old/sub`, { recursive: true });
  const tar = await tarOf([
    { header: { name: "old/.wh.sub", uid: 4, gid: 5 } },
    { header: { name: "etc/.wh.passwd" } },
    { header: { name: "opq", type: "directory", mode: 0o755 } },
    { header: { name: "opq/.wh..wh..opq" } },
    { header: { name: "opq/new" }, content: "n" },
    { header: { name: ".wh..wh.plnk" } },
  ]);
  await applyLayer(streamOf(tar), dir, { whiteouts: "overlay" });
  for (const [p, uid] of [
    ["old/sub", 4],
    ["etc/passwd", 0],
  ] as const) {
    const st = await lstat(`${dir}/${p}`);
    assert.ok(st.isCharacterDevice(), p);
    assert.equal(st.rdev, 0);
    assert.equal(st.uid, uid);
  }
  assert.deepEqual(await sharedFsops().lgetxattr(`${dir}/opq`, "trusted.overlay.opaque"), Buffer.from("y"));
  assert.deepEqual((await readdir(`${dir}/opq`)).sort(), ["new"]);
  assert.ok(!existsSync(`${dir}/.wh..wh.plnk`));
  assert.ok(!existsSync(`${dir}/etc/.wh.passwd`));
});

test("apply plain whiteouts: .wh.<name> deletes; opaque deletes old children but not the layer's own", async (t) => {
  const dir = await tempDir(t);
  await mkdir(`${dir}/a/deep`, { recursive: true });
  await writeFile(`${dir}/a/deep/f`, "x");
  await writeFile(`${dir}/keep`, "x");
  await mkdir(`${dir}/o`);
  await writeFile(`${dir}/o/old1`, "x");
  await mkdir(`${dir}/o/olddir`);
  const tar = await tarOf([
    { header: { name: ".wh.a" } },
    { header: { name: "o/added" }, content: "new" },
    // The opaque marker after an addition: the addition stays.
    { header: { name: "o/.wh..wh..opq" } },
    { header: { name: "o/later" }, content: "new" },
  ]);
  await applyLayer(streamOf(tar), dir, { whiteouts: "plain" });
  assert.deepEqual((await readdir(dir)).sort(), ["keep", "o"]);
  assert.deepEqual((await readdir(`${dir}/o`)).sort(), ["added", "later"]);
});

test("apply: an entry replaces what is in its way (file over dir, dir over file, file over symlink)", async (t) => {
  const dir = await tempDir(t);
  const outside = await tempDir(t, "berth-outside-");
  await writeFile(`${outside}/victim`, "untouched");
  await mkdir(`${dir}/was-dir/sub`, { recursive: true });
  await writeFile(`${dir}/was-file`, "x");
  await symlink(`${outside}/victim`, `${dir}/link`);
  const tar = await tarOf([
    { header: { name: "was-dir" }, content: "now a file" },
    { header: { name: "was-file", type: "directory" } },
    { header: { name: "link" }, content: "written in place of the symlink" },
  ]);
  await applyLayer(streamOf(tar), dir, { whiteouts: "plain" });
  assert.equal(await readFile(`${dir}/was-dir`, "utf8"), "now a file");
  assert.ok((await lstat(`${dir}/was-file`)).isDirectory());
  assert.ok((await lstat(`${dir}/link`)).isFile());
  assert.equal(await readFile(`${outside}/victim`, "utf8"), "untouched");
});

test("malicious: ../ traversal is refused, naming the entry, and writes nothing outside", async (t) => {
  const parent = await tempDir(t);
  const dir = `${parent}/target`;
  await mkdir(dir);
  for (const name of ["../escape", "a/../../escape", "./../escape"]) {
    const tar = await tarOf([{ header: { name }, content: "x" }]);
    await assert.rejects(applyLayer(streamOf(tar), dir, { whiteouts: "plain" }), refused(name));
  }
  assert.deepEqual(await readdir(parent), ["target"]);
});

test("malicious: a symlink in the parent path never leads out of the target", async (t) => {
  const dir = await tempDir(t);
  const outside = await tempDir(t, "berth-outside-");
  const tar = await tarOf([
    { header: { name: "abs", type: "symlink", linkname: outside } },
    { header: { name: "rel", type: "symlink", linkname: "../../../../../../../../../../.." } },
    { header: { name: "abs/pwned" }, content: "x" },
    { header: { name: `rel${outside}/pwned2` }, content: "x" },
    { header: { name: "abs/dev", type: "character-device", devmajor: 1, devminor: 3 } },
    { header: { name: "rel/fifo", type: "fifo" } },
  ]);
  await applyLayer(streamOf(tar), dir, { whiteouts: "plain" });
  assert.deepEqual(await readdir(outside), []);
  // Resolved inside the root, as openat2(RESOLVE_IN_ROOT) would.
  assert.equal(await readFile(`${dir}${outside}/pwned`, "utf8"), "x");
  assert.equal(await readFile(`${dir}${outside}/pwned2`, "utf8"), "x");
  assert.ok((await lstat(`${dir}${outside}/dev`)).isCharacterDevice());
  assert.ok((await lstat(`${dir}/fifo`)).isFIFO());
});

test("malicious: hard links to outside the target are refused or stay inside", async (t) => {
  const dir = await tempDir(t);
  const outside = await tempDir(t, "berth-outside-");
  await writeFile(`${outside}/secret`, "s");
  const traversal = await tarOf([{ header: { name: "h", type: "link", linkname: "../../../../../../../etc/passwd" } }]);
  await assert.rejects(applyLayer(streamOf(traversal), dir, { whiteouts: "plain" }), refused('"h"'));
  const absolute = await tarOf([{ header: { name: "h2", type: "link", linkname: `${outside}/secret` } }]);
  await assert.rejects(applyLayer(streamOf(absolute), dir, { whiteouts: "plain" }), refused('"h2"'));
  const viaSymlink = await tarOf([
    { header: { name: "e", type: "symlink", linkname: outside } },
    { header: { name: "h3", type: "link", linkname: "e/secret" } },
  ]);
  await assert.rejects(applyLayer(streamOf(viaSymlink), dir, { whiteouts: "plain" }), refused('"h3"'));
  assert.equal(lstatSync(`${outside}/secret`).nlink, 1);
  // A hard link to a symlink links the symlink itself, not its target.
  const toLink = await tarOf([
    { header: { name: "s", type: "symlink", linkname: `${outside}/secret` } },
    { header: { name: "h4", type: "link", linkname: "s" } },
  ]);
  await applyLayer(streamOf(toLink), dir, { whiteouts: "plain" });
  assert.ok((await lstat(`${dir}/h4`)).isSymbolicLink());
  assert.equal(lstatSync(`${outside}/secret`).nlink, 1);
});

test("malicious: whiteouts of '..', '.', the root, or through a symlink out are refused or contained", async (t) => {
  const parent = await tempDir(t);
  const dir = `${parent}/target`;
  await mkdir(dir);
  await writeFile(`${parent}/sibling`, "s");
  for (const name of [".wh..", ".wh...", "sub/.wh..", "sub/.wh...", ".wh."]) {
    for (const whiteouts of ["plain", "overlay"] as const) {
      const tar = await tarOf([{ header: { name } }]);
      await assert.rejects(applyLayer(streamOf(tar), dir, { whiteouts }), refused(name));
    }
  }
  const outside = await tempDir(t, "berth-outside-");
  await writeFile(`${outside}/secret`, "s");
  const viaSymlink = await tarOf([
    { header: { name: "e", type: "symlink", linkname: outside } },
    { header: { name: "e/.wh.secret" } },
    { header: { name: "e/.wh..wh..opq" } },
  ]);
  await applyLayer(streamOf(viaSymlink), dir, { whiteouts: "plain" });
  assert.equal(readFileSync(`${outside}/secret`, "utf8"), "s");
  assert.ok(existsSync(`${parent}/sibling`));
  assert.ok((await stat(dir)).isDirectory());
});

test("malformed: corrupt headers, truncated archives and unsupported types are refused", async (t) => {
  const dir = await tempDir(t);
  const tar = await tarOf([{ header: { name: "f" }, content: "x".repeat(2000) }]);
  const corrupt = Buffer.from(tar);
  corrupt[10] = 0x41;
  await assert.rejects(applyLayer(streamOf(corrupt), dir, { whiteouts: "plain" }), { name: "InvalidArgumentError" });
  await assert.rejects(applyLayer(streamOf(tar.subarray(0, 1024)), dir, { whiteouts: "plain" }), /unexpected end/);
  const sparse = Buffer.from(await tarOf([{ header: { name: "s" }, content: "" }]));
  sparse[156] = "S".charCodeAt(0);
  let sum = 0;
  sparse.fill(0x20, 148, 156);
  for (let i = 0; i < 512; i++) sum += sparse[i]!;
  sparse.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
  await assert.rejects(applyLayer(streamOf(sparse), dir, { whiteouts: "plain" }), refused('"s"'));
});

test("apply: an aborted signal stops the apply", async (t) => {
  const dir = await tempDir(t);
  const tar = await tarOf([{ header: { name: "f" }, content: "x" }]);
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(applyLayer(Readable.from([tar]), dir, { whiteouts: "plain", signal: ac.signal }), {
    name: "AbortError",
  });
});

test("apply: GNU tar's own output (long names, long link targets) applies", async (t) => {
  const src = await tempDir(t);
  const dir = await tempDir(t);
  const long = `${"d".repeat(120)}/${"f".repeat(150)}`;
  await mkdir(`${src}/${"d".repeat(120)}`);
  await writeFile(`${src}/${long}`, "long");
  await symlink(long, `${src}/l`);
  for (const format of ["gnu", "posix"]) {
    const tar = execFileSync("tar", ["-C", src, `--format=${format}`, "-cf", "-", "."]);
    const out = `${dir}/${format}`;
    await mkdir(out);
    const r = await applyLayer(streamOf(tar), out, { whiteouts: "plain" });
    assert.equal(r.diffId, sha256(tar));
    assert.equal(await readFile(`${out}/${long}`, "utf8"), "long");
    assert.equal(await readlink(`${out}/l`), long);
  }
});
