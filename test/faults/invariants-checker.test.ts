// The checker the kill9 tests rely on (test/helpers/invariants.ts) can fail: on a store with an
// imported, unpacked image it finds nothing, then finds each thing taken away behind the daemon's
// back (a blob file, a snapshot directory, a backend snapshot row) and each thing left (a mount
// under the dirs, a bundle, a task shim's socket).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, describe, test } from "node:test";
import { socketPathFor } from "../../src/shim/start.ts";
import { writeImageArchive } from "../fixtures/oci-image.ts";
import { type BerthContainerd, startBerthContainerd } from "../helpers/berth-containerd.ts";
import { checkReferences, leftovers } from "../helpers/invariants.ts";

const NS = "faults";
const skip = process.getuid?.() !== 0 ? "needs root" : !existsSync("/usr/bin/ctr") ? "ctr not installed" : undefined;

describe("the kill9 tests' invariant checker", { skip }, () => {
  let d: BerthContainerd & { cleanup(): Promise<void> };
  let layer: string;
  before(async () => {
    d = await startBerthContainerd();
    const archive = join(d.dir, "busybox.tar");
    const info = await writeImageArchive(archive, { name: "docker.io/berth/checker:1" });
    layer = info.layerDigest;
    const r = await d.ctrAsync(["images", "import", archive], { namespace: NS });
    assert.equal(r.status, 0, r.stderr);
    await d.stop();
  });
  after(async () => {
    await d?.cleanup();
  });

  test("references: a missing blob, snapshot directory or backend row is found", () => {
    const clean = checkReferences(d.root);
    assert.deepEqual(clean.problems, []);
    assert.ok(clean.counts.images === 1 && clean.counts.snapshotRows === 1, JSON.stringify(clean.counts));

    const blob = join(d.root, "io.containerd.content.v1.content/blobs/sha256", layer.slice(7));
    renameSync(blob, `${blob}.away`);
    try {
      assert.match(checkReferences(d.root).problems.join("\n"), new RegExp(`content ${layer}.*: no blob`));
    } finally {
      renameSync(`${blob}.away`, blob);
    }

    const snapshots = join(d.root, "io.containerd.snapshotter.v1.overlayfs/snapshots");
    const [id] = readdirSync(snapshots);
    renameSync(join(snapshots, id!), join(d.root, "moved-away"));
    try {
      assert.match(checkReferences(d.root).problems.join("\n"), /overlayfs snapshot .*: no directory/);
    } finally {
      renameSync(join(d.root, "moved-away"), join(snapshots, id!));
    }

    const db = new DatabaseSync(join(d.root, "io.containerd.snapshotter.v1.overlayfs/metadata.db"));
    try {
      db.exec("UPDATE snapshots SET name = name || '-renamed'");
      assert.match(checkReferences(d.root).problems.join("\n"), /backend snapshot .* has no row in overlayfs/);
    } finally {
      db.exec("UPDATE snapshots SET name = substr(name, 1, length(name) - 8)");
      db.close();
    }
    assert.deepEqual(checkReferences(d.root).problems, [], "restored");
  });

  test("leftovers: a mount, a bundle and a shim socket are found", () => {
    const scope = { dir: d.dir, state: d.state, address: d.address, namespace: NS, ids: ["gone"], spares: 0 };
    assert.deepEqual(leftovers(scope), []);
    const mnt = join(d.dir, "mnt");
    mkdirSync(mnt);
    execFileSync("mount", ["-t", "tmpfs", "tmpfs", mnt]);
    const bundle = join(d.state, "io.containerd.runtime.v2.task", NS, "gone");
    mkdirSync(bundle, { recursive: true });
    const socket = socketPathFor(d.address, NS, "gone");
    mkdirSync(join(socket, ".."), { recursive: true });
    writeFileSync(socket, "");
    try {
      const found = leftovers(scope).join("\n");
      assert.match(found, new RegExp(`mount ${mnt}`));
      assert.match(found, new RegExp(`state ${bundle}`));
      assert.match(found, /shim socket .* of gone/);
    } finally {
      execFileSync("umount", [mnt]);
      rmSync(bundle, { recursive: true });
      rmSync(socket);
    }
  });
});
