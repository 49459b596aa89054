// Needs dist/fsops (the build compiles native/fsops.c). Uses user.* xattrs and fifos, which need no root.
import assert from "node:assert/strict";
import { lstat, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { test } from "node:test";
import { Fsops, fsopsBinary } from "../../../src/common/archive/fsops.ts";

test("fsops: mknod, l*xattr (own, not the symlink target's), errors as Node-style codes, pipelining", async (t) => {
  const dir = await mkdtemp(`${tmpdir()}/berth-fsops-`);
  const fsops = new Fsops(fsopsBinary());
  t.after(async () => {
    await fsops.close();
    await rm(dir, { recursive: true, force: true });
  });
  await fsops.mknod(`${dir}/fifo`, 0o010640);
  const st = await lstat(`${dir}/fifo`);
  assert.ok(st.isFIFO());
  await assert.rejects(fsops.mknod(`${dir}/fifo`, 0o010640), { code: "EEXIST", syscall: "mknod", path: `${dir}/fifo` });

  await writeFile(`${dir}/f`, "");
  const value = Buffer.from([0, 1, 2, 255]);
  await fsops.lsetxattr(`${dir}/f`, "user.bin", value);
  assert.deepEqual(await fsops.lgetxattr(`${dir}/f`, "user.bin"), value);
  assert.equal(await fsops.lgetxattr(`${dir}/f`, "user.none"), null);
  assert.deepEqual(await fsops.llistxattr(`${dir}/f`), ["user.bin"]);
  await symlink("f", `${dir}/l`);
  assert.deepEqual(await fsops.llistxattr(`${dir}/l`), []);
  await assert.rejects(fsops.llistxattr(`${dir}/missing`), { code: "ENOENT" });

  // Many requests in flight at once come back in order (a file holds only a few KB of xattrs).
  const names = Array.from({ length: 20 }, (_, i) => `user.k${i}`);
  await Promise.all(names.map((n, i) => fsops.lsetxattr(`${dir}/f`, n, Buffer.from(String(i)))));
  const reads = Array.from({ length: 1000 }, (_, i) => i % names.length);
  const values = await Promise.all(reads.map((k) => fsops.lgetxattr(`${dir}/f`, names[k]!)));
  assert.deepEqual(
    values.map((v) => v?.toString()),
    reads.map(String),
  );
  await assert.rejects(fsops.lgetxattr(`${dir}/f\0x`, "user.a"), /NUL/);
});

test("fsops: a helper that dies fails the call it was on; the next call starts a new one", async (t) => {
  const dir = await mkdtemp(`${tmpdir()}/berth-fsops-`);
  const fsops = new Fsops(fsopsBinary());
  t.after(async () => {
    await fsops.close();
    await rm(dir, { recursive: true, force: true });
  });
  await writeFile(`${dir}/f`, "");
  assert.deepEqual(await fsops.llistxattr(`${dir}/f`), []);
  // Killed, then asked in the same tick: the call goes to the dead helper (its exit is not seen yet).
  process.kill(fsops.pid!, "SIGKILL");
  await assert.rejects(fsops.llistxattr(`${dir}/f`), /exited \(SIGKILL\) with calls pending/);
  assert.deepEqual(await fsops.llistxattr(`${dir}/f`), []);
});
