// LocalDiffService on real snapshotters: apply and diff through each fast path and through the
// mount path (mount(8), apply/diff, unmount), which must leave no mount behind.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { lstat, mkdir, readdir, readFile } from "node:fs/promises";
import { Writable } from "node:stream";
import { test } from "node:test";
import { LocalDiffService } from "../../../src/containerd/diff/local.ts";
import { NativeSnapshotter } from "../../../src/containerd/snapshots/native.ts";
import { OverlaySnapshotter } from "../../../src/containerd/snapshots/overlay.ts";
import type { Snapshotter } from "../../../src/containerd/snapshots/snapshotter.ts";
import { streamOf, tarOf, tempDir } from "./layer-helpers.ts";

const service = new LocalDiffService();

function collect(): { sink: Writable; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk);
      done();
    },
  });
  return { sink, bytes: () => Buffer.concat(chunks) };
}

function ourMounts(): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .filter((l) => l.includes("berth-mount-"));
}

const base = () =>
  tarOf([
    { header: { name: "etc", type: "directory", mode: 0o755 } },
    { header: { name: "etc/a" }, content: "a" },
    { header: { name: "etc/b" }, content: "b" },
  ]);
const top = () =>
  tarOf([
    { header: { name: "etc", type: "directory", mode: 0o755 } },
    { header: { name: "etc/.wh.a" } },
    { header: { name: "etc/c" }, content: "c" },
  ]);

async function unpackTwo(s: Snapshotter) {
  const baseResult = await service.apply(await s.prepare("b-key"), streamOf(await base()));
  await s.commit("base", "b-key");
  const topMounts = await s.prepare("t-key", "base");
  const topResult = await service.apply(topMounts, streamOf(await top()));
  return { baseResult, topResult, topMounts };
}

for (const [name, open] of [
  ["overlayfs", OverlaySnapshotter.open],
  ["native", NativeSnapshotter.open],
] as const) {
  test(`diff service on ${name}: apply through the fast paths, diff gives back the layer's changes`, async (t) => {
    const s: Snapshotter = await open(await tempDir(t));
    t.after(() => s.close());
    const { topMounts } = await unpackTwo(s);
    if (name === "overlayfs") {
      // Applied in overlay mode into the upper dir: the whiteout is a device there.
      const upper = topMounts[0]!.options.find((o) => o.startsWith("upperdir="))!.slice(9);
      assert.ok((await lstat(`${upper}/etc/a`)).isCharacterDevice());
    }
    const out = collect();
    const r = await service.diff(await s.view("base-view", "base"), topMounts, out.sink);
    assert.equal(r.size, out.bytes().length);
    const check = await tempDir(t);
    await mkdir(`${check}/etc`);
    await service.apply([{ type: "bind", source: check, options: ["rw", "rbind"] }], streamOf(out.bytes()));
    // Plain apply onto an empty dir: the whiteout deletes nothing, the new file arrives.
    assert.deepEqual((await readdir(`${check}/etc`)).sort(), ["c"]);
    assert.deepEqual(ourMounts(), []);
  });
}

test("diff service: the mount path applies through mount(8) and always unmounts", async (t) => {
  const dir = await tempDir(t);
  await mkdir(`${dir}/under`);
  await mkdir(`${dir}/over`);
  // Two stacked binds match no fast path: the service must mount them.
  const mounts = [
    { type: "bind", source: `${dir}/under`, options: ["rbind", "rw"] },
    { type: "bind", source: `${dir}/over`, options: ["rbind", "rw"] },
  ];
  await service.apply(mounts, streamOf(await base()));
  assert.equal(await readFile(`${dir}/over/etc/a`, "utf8"), "a");
  assert.deepEqual(await readdir(`${dir}/under`), []);
  assert.deepEqual(ourMounts(), []);
  // A failing apply unmounts too.
  await assert.rejects(service.apply(mounts, streamOf(await tarOf([{ header: { name: "../x" }, content: "" }]))), {
    name: "InvalidArgumentError",
  });
  assert.deepEqual(ourMounts(), []);
});

test("diff service: diff through mounts (a two-layer view against a directory)", async (t) => {
  const s = await OverlaySnapshotter.open(await tempDir(t));
  t.after(() => s.close());
  await unpackTwo(s);
  await s.commit("top", "t-key");
  const work = await tempDir(t);
  // The upper: a plain directory holding base+top merged plus one more file.
  await mkdir(`${work}/etc`, { recursive: true });
  await service.apply([{ type: "bind", source: work, options: ["rw"] }], streamOf(await base()));
  await service.apply([{ type: "bind", source: work, options: ["rw"] }], streamOf(await top()));
  await service.apply(
    [{ type: "bind", source: work, options: ["rw"] }],
    streamOf(await tarOf([{ header: { name: "etc/d" }, content: "d" }])),
  );
  const lower = await s.view("v", "top");
  assert.equal(lower[0]?.type, "overlay");
  const out = collect();
  await service.diff(lower, [{ type: "bind", source: work, options: ["rbind", "ro"] }], out.sink);
  assert.deepEqual(ourMounts(), []);
  const check = await tempDir(t);
  await service.apply([{ type: "bind", source: check, options: ["rw"] }], streamOf(out.bytes()));
  // Only the file the lower lacks (and its parent dir) is in the diff.
  assert.deepEqual(await readdir(`${check}/etc`), ["d"]);
});
