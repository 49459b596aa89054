// The shared snapshotter cases against OverlaySnapshotter, plus what only overlay does: the
// upper of a deleting layer holds a whiteout device, and the mounts name every layer.
import assert from "node:assert/strict";
import { lstat, mkdtemp, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { test } from "node:test";
import { mountAll, unmountAll } from "../../../src/common/mount/mounter.ts";
import { OverlaySnapshotter } from "../../../src/containerd/snapshots/overlay.ts";
import { snapshotterCases } from "./snapshotter-cases.ts";

snapshotterCases("overlayfs", { open: (root) => OverlaySnapshotter.open(root) });

test("overlayfs: a deletion is a 0/0 whiteout in the upper; mounts list the layers nearest first", async () => {
  const root = await mkdtemp(`${tmpdir()}/berth-snap-`);
  const s = await OverlaySnapshotter.open(root);
  const mnt = await mkdtemp(`${tmpdir()}/berth-snap-mnt-`);
  try {
    const [base] = await s.prepare("b");
    await writeFile(`${base!.source}/f`, "x");
    await s.commit("base", "b");
    await s.prepare("m", "base");
    await s.commit("mid", "m");
    const mounts = await s.prepare("top", "mid");
    const [m] = mounts;
    assert.equal(m?.type, "overlay");
    const opt = (k: string) => m!.options.find((o) => o.startsWith(`${k}=`))?.slice(k.length + 1);
    const lower = opt("lowerdir")!.split(":");
    assert.equal(lower.length, 2);
    assert.ok(lower[0]!.endsWith("/fs") && lower[0] !== lower[1]);
    assert.equal((await s.view("v2", "mid"))[0]?.type, "overlay");
    await mountAll(mounts, mnt);
    try {
      await unlink(`${mnt}/f`);
    } finally {
      await unmountAll(mnt);
    }
    const st = await lstat(`${opt("upperdir")}/f`);
    assert.ok(st.isCharacterDevice());
    assert.equal(st.rdev, 0);
  } finally {
    await s.close();
    await rm(mnt, { recursive: true, force: true });
    await rm(root, { recursive: true, force: true });
  }
});
