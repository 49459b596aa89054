// The shared snapshotter cases against NativeSnapshotter, plus its copy semantics: a child is a
// full copy (hard links and ownership kept) that changes independently of its parent.
import assert from "node:assert/strict";
import { chown, link, lstat, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { test } from "node:test";
import { NativeSnapshotter } from "../../../src/containerd/snapshots/native.ts";
import { snapshotterCases } from "./snapshotter-cases.ts";

snapshotterCases("native", { open: (root) => NativeSnapshotter.open(root) });

test("native: prepare copies the parent with hard links and owners; the copy is independent", async () => {
  const root = await mkdtemp(`${tmpdir()}/berth-snap-`);
  const s = await NativeSnapshotter.open(root);
  try {
    const [base] = await s.prepare("b");
    await writeFile(`${base!.source}/f`, "base");
    await link(`${base!.source}/f`, `${base!.source}/g`);
    await chown(`${base!.source}/f`, 1234, 5678);
    await s.commit("base", "b");
    const [child] = await s.prepare("c", "base");
    assert.notEqual(child!.source, base!.source);
    const [f, g] = await Promise.all([lstat(`${child!.source}/f`), lstat(`${child!.source}/g`)]);
    assert.equal(f.ino, g.ino);
    assert.equal(f.uid, 1234);
    assert.equal(f.gid, 5678);
    await writeFile(`${child!.source}/f`, "child");
    const [v] = await s.view("v", "base");
    assert.equal(await readFile(`${v!.source}/f`, "utf8"), "base");
  } finally {
    await s.close();
    await rm(root, { recursive: true, force: true });
  }
});
