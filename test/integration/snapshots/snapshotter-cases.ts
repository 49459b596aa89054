// The snapshotter contract as one suite of cases, run against every implementation (overlay.test.ts,
// native.test.ts): each implementation file passes a factory and gets the same cases. Cases that
// mount use the real kernel (root), in private temp dirs, and unmount even when they fail.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, rmdir, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { describe, test } from "node:test";
import type { BerthError } from "../../../src/common/errors.ts";
import type { Mount } from "../../../src/common/mount/mount.ts";
import { mountAll, unmountAll } from "../../../src/common/mount/mounter.ts";
import type { Snapshotter } from "../../../src/containerd/snapshots/snapshotter.ts";

export interface SnapshotterFactory {
  /** Opens (or reopens) a snapshotter on `root`. */
  open(root: string): Promise<Snapshotter>;
}

async function withRoot(factory: SnapshotterFactory, fn: (s: Snapshotter, root: string) => Promise<void>) {
  const root = await mkdtemp(`${tmpdir()}/berth-snap-`);
  const s = await factory.open(root);
  try {
    await fn(s, root);
  } finally {
    await s.close();
    await rm(root, { recursive: true, force: true });
  }
}

/** Mounts `mounts` on a fresh dir for `fn`; always unmounts and removes the dir. */
async function withMounted(mounts: Mount[], fn: (dir: string) => Promise<void>) {
  const dir = await mkdtemp(`${tmpdir()}/berth-snap-mnt-`);
  try {
    await mountAll(mounts, dir);
    try {
      await fn(dir);
    } finally {
      await unmountAll(dir);
    }
  } finally {
    await rmdir(dir);
  }
}

function kind(kind: BerthError["kind"]) {
  return (err: unknown) => {
    assert.equal((err as BerthError).kind, kind, String(err));
    return true;
  };
}

export function snapshotterCases(name: string, factory: SnapshotterFactory): void {
  describe(`snapshotter ${name}`, () => {
    test("lifecycle: prepare, commit, prepare on the parent, stat, remove", () =>
      withRoot(factory, async (s) => {
        const m1 = await s.prepare("a-key", undefined, { l: "1" });
        assert.equal(m1.length, 1);
        const before = await s.stat("a-key");
        assert.equal(before.kind, "active");
        assert.equal(before.parent, "");
        assert.deepEqual(before.labels, { l: "1" });
        await s.commit("a", "a-key", { c: "2" });
        await assert.rejects(s.stat("a-key"), kind("not-found"));
        const a = await s.stat("a");
        assert.equal(a.kind, "committed");
        assert.deepEqual(a.labels, { c: "2" });
        await s.prepare("b-key", "a");
        assert.equal((await s.stat("b-key")).parent, "a");
        await s.view("v", "a");
        assert.equal((await s.stat("v")).kind, "view");
        await s.remove("b-key");
        await s.remove("v");
        await s.remove("a");
        const names: string[] = [];
        await s.walk((i) => {
          names.push(i.name);
        });
        assert.deepEqual(names, []);
      }));

    test("mounts: bind rw without parent, ro for a view of one parent, inside the root", () =>
      withRoot(factory, async (s, root) => {
        const [m] = await s.prepare("base-key");
        assert.equal(m?.type, "bind");
        assert.deepEqual(m?.options.sort(), ["rbind", "rw"]);
        assert.ok(m?.source.startsWith(`${root}/snapshots/`), m?.source);
        await writeFile(`${m!.source}/hello`, "hi");
        await s.commit("base", "base-key");
        const [v] = await s.view("view", "base");
        assert.equal(v?.type, "bind");
        assert.ok(v?.options.includes("ro"));
        assert.equal(await readFile(`${v!.source}/hello`, "utf8"), "hi");
        assert.deepEqual(await s.mounts("view"), [v]);
        await assert.rejects(s.mounts("base"), kind("failed-precondition"));
      }));

    test("labels: update replaces all, or single keys by field path", () =>
      withRoot(factory, async (s) => {
        await s.prepare("k", undefined, { a: "1", b: "2" });
        const created = (await s.stat("k")).updated;
        await new Promise((r) => setTimeout(r, 5));
        let i = await s.update({ name: "k", labels: { b: "20", c: "3" } }, ["labels.b", "labels.a"]);
        assert.deepEqual(i.labels, { b: "20" });
        assert.ok(i.updated > created);
        i = await s.update({ name: "k", labels: { x: "y" } });
        assert.deepEqual(i.labels, { x: "y" });
        i = await s.update({ name: "k", labels: { z: "1" } }, ["labels"]);
        assert.deepEqual((await s.stat("k")).labels, { z: "1" });
        await assert.rejects(s.update({ name: "k", labels: {} }, ["parent"]), kind("invalid-argument"));
        await assert.rejects(s.update({ name: "nope", labels: {} }), kind("not-found"));
        await assert.rejects(s.prepare("big", undefined, { k: "v".repeat(5000) }), kind("invalid-argument"));
      }));

    test("usage: live for active snapshots, stored at commit", () =>
      withRoot(factory, async (s) => {
        const [m] = await s.prepare("k");
        const empty = await s.usage("k");
        await writeFile(`${m!.source}/data`, Buffer.alloc(256 * 1024, 1));
        await mkdir(`${m!.source}/dir`);
        await writeFile(`${m!.source}/dir/f`, "x");
        const live = await s.usage("k");
        assert.ok(live.size >= empty.size + 256 * 1024, `${live.size} vs ${empty.size}`);
        assert.equal(live.inodes, empty.inodes + 3);
        await s.commit("c", "k");
        assert.deepEqual(await s.usage("c"), live);
        await s.view("v", "c");
        assert.deepEqual(await s.usage("v"), { size: 0, inodes: 0 });
      }));

    test("walk: every snapshot, by name, with kind and parent", () =>
      withRoot(factory, async (s) => {
        await s.prepare("p-key");
        await s.commit("p", "p-key");
        await s.prepare("c-key", "p");
        await s.view("b-view", "p");
        const seen: [string, string, string][] = [];
        await s.walk((i) => {
          seen.push([i.name, i.kind, i.parent]);
        });
        assert.deepEqual(seen, [
          ["b-view", "view", "p"],
          ["c-key", "active", "p"],
          ["p", "committed", ""],
        ]);
      }));

    test("errors: duplicates, unknown keys, uncommitted parents, children, commit twice", () =>
      withRoot(factory, async (s) => {
        await s.prepare("k");
        await assert.rejects(s.prepare("k"), kind("already-exists"));
        await assert.rejects(s.view("k"), kind("already-exists"));
        for (const op of [() => s.stat("x"), () => s.mounts("x"), () => s.usage("x"), () => s.remove("x")]) {
          await assert.rejects(op(), kind("not-found"));
        }
        await assert.rejects(s.commit("n", "x"), kind("not-found"));
        await assert.rejects(s.prepare("child", "k"), kind("invalid-argument"));
        await assert.rejects(s.prepare("child", "missing"), kind("not-found"));
        await s.commit("c", "k");
        await assert.rejects(s.commit("c2", "c"), kind("failed-precondition"));
        await s.prepare("k2");
        await assert.rejects(s.commit("c", "k2"), kind("already-exists"));
        await s.view("v", "c");
        await assert.rejects(s.commit("c3", "v"), kind("failed-precondition"));
        await assert.rejects(s.remove("c"), kind("failed-precondition"));
        await s.remove("v");
        await s.remove("c");
        // Nothing of a refused call is left behind.
        const names: string[] = [];
        await s.walk((i) => {
          names.push(i.name);
        });
        assert.deepEqual(names, ["k2"]);
      }));

    test("crash safety: state survives reopening; cleanup removes only orphaned storage", async () => {
      const root = await mkdtemp(`${tmpdir()}/berth-snap-`);
      try {
        let s = await factory.open(root);
        const [m] = await s.prepare("k");
        await writeFile(`${m!.source}/f`, "keep");
        await s.commit("c", "k");
        await s.prepare("a", "c");
        await s.close();
        // What a crash leaves: a half-filled temp dir, a renamed dir whose row never committed,
        // and a removal interrupted after its transaction.
        for (const d of ["new-abc", "999", "rm-5"]) await mkdir(`${root}/snapshots/${d}/fs`, { recursive: true });
        s = await factory.open(root);
        try {
          assert.equal((await s.stat("a")).parent, "c");
          const before = (await readdir(`${root}/snapshots`)).sort();
          assert.ok(before.includes("999"));
          await s.cleanup();
          const after = (await readdir(`${root}/snapshots`)).sort();
          assert.equal(after.length, 2);
          assert.ok(
            after.every((d) => /^[0-9]+$/.test(d) && d !== "999"),
            after.join(","),
          );
          const [v] = await s.view("v", "c");
          assert.equal(await readFile(`${v!.source}/f`, "utf8"), "keep");
          await s.remove("a");
          assert.equal((await readdir(`${root}/snapshots`)).length, 2);
        } finally {
          await s.close();
        }
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    });

    test("kernel: a mounted chain is copy-on-write and hides a deleted lower file", () =>
      withRoot(factory, async (s) => {
        await withMounted(await s.prepare("base-key"), async (dir) => {
          await writeFile(`${dir}/keep`, "base");
          await writeFile(`${dir}/edit`, "base");
          await writeFile(`${dir}/gone`, "base");
        });
        await s.commit("base", "base-key");
        const [baseView] = await s.view("base-view", "base");
        await withMounted(await s.prepare("top-key", "base"), async (dir) => {
          assert.equal(await readFile(`${dir}/keep`, "utf8"), "base");
          await writeFile(`${dir}/edit`, "top");
          await unlink(`${dir}/gone`);
          await writeFile(`${dir}/new`, "top");
        });
        await s.commit("top", "top-key");
        // The lower layer is untouched.
        assert.equal(await readFile(`${baseView!.source}/edit`, "utf8"), "base");
        assert.ok(existsSync(`${baseView!.source}/gone`));
        // A fresh active snapshot on top sees the merged result.
        await withMounted(await s.prepare("check", "top"), async (dir) => {
          assert.deepEqual((await readdir(dir)).sort(), ["edit", "keep", "new"]);
          assert.equal(await readFile(`${dir}/edit`, "utf8"), "top");
          assert.equal(await readFile(`${dir}/keep`, "utf8"), "base");
        });
        // So does a read-only view of the two layers, which refuses writes.
        await withMounted(await s.view("v", "top"), async (dir) => {
          assert.deepEqual((await readdir(dir)).sort(), ["edit", "keep", "new"]);
          await assert.rejects(writeFile(`${dir}/x`, "x"), { code: "EROFS" });
        });
      }));
  });
}
