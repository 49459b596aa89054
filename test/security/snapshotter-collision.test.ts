// Hole: the metadata database kept one backend key per snapshot, unique across every snapshotter,
// while each snapshotter numbers its backend keys on its own sequence. Unpacking the same image
// with a second snapshotter in the same namespace (`ctr images pull --snapshotter native` after an
// overlayfs pull) built the same backend key for the same layer and failed with "UNIQUE
// constraint failed: snapshots.backend_key": one snapshotter's snapshots stopped another's in the
// namespace. A backend key names a directory of its own snapshotter only, so it is unique per
// snapshotter.
// Host-side check: the pull and a container with the native snapshotter work after the overlayfs
// pull, and each snapshotter holds the image's layer.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { writeImageArchive } from "../fixtures/oci-image.ts";
import { type BerthContainerd, CTR, type CtrResult, startBerthContainerd } from "../helpers/berth-containerd.ts";
import { type LocalRegistry, REGISTRY_BINARY, seedImage, startRegistry } from "../helpers/local-registry.ts";

const skip =
  process.getuid?.() !== 0
    ? "root only"
    : !existsSync(CTR) || !existsSync(REGISTRY_BINARY)
      ? "needs ctr and docker-registry"
      : undefined;

const ok = (r: CtrResult, what: string) => {
  assert.equal(r.status, 0, `${what}: ${r.stderr}${r.stdout}`);
  return r.stdout;
};

describe("two snapshotters in one namespace", { skip }, () => {
  let d: BerthContainerd & { cleanup(): Promise<void> };
  let reg: LocalRegistry;
  let ref: string;

  before(async () => {
    d = await startBerthContainerd();
    reg = await startRegistry();
    const archive = join(d.dir, "busybox-oci.tar");
    await writeImageArchive(archive, { name: "berth/busybox:latest" });
    await seedImage(reg, archive, "berth/busybox:1");
    ref = `${reg.host}/berth/busybox:1`;
  });

  after(async () => {
    await reg?.stop();
    await d?.cleanup();
  });

  test("pull with overlayfs, then with native: both unpack, both run", { timeout: 180_000 }, async () => {
    ok(await d.ctrAsync(["images", "pull", "--plain-http", ref]), "pull (overlayfs)");
    ok(await d.ctrAsync(["images", "pull", "--plain-http", "--snapshotter", "native", ref]), "pull (native)");
    for (const s of ["overlayfs", "native"]) {
      const ls = ok(await d.ctrAsync(["snapshots", "--snapshotter", s, "ls"]), `snapshots ls ${s}`);
      assert.match(ls, /^sha256:[0-9a-f]{64}\s+Committed/m, `${s} holds the layer:\n${ls}`);
    }
    const out = ok(
      await d.ctrAsync(["run", "--rm", "--snapshotter", "native", ref, "native-run", "echo", "native ok"]),
      "run with native",
    );
    assert.match(out, /native ok/);
    const out2 = ok(await d.ctrAsync(["run", "--rm", ref, "overlay-run", "echo", "overlay ok"]), "run with overlayfs");
    assert.match(out2, /overlay ok/);
  });
});
