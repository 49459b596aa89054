// The transfer service extracts overlay layers ahead of their chain (staged, in parallel) and
// moves them into place. The result must be the tree ctr's ordinary, layer-by-layer unpack builds:
// the same files, whiteouts, opaque directories, and the owner and mode of parent directories a
// layer did not carry (taken from the layer below).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { RemoteContainerd } from "../../../src/client/remote.ts";
import { transferPull } from "../../../src/client/transfer.ts";
import { gzipLayer } from "../../fixtures/layer-tar.ts";
import { type BerthContainerd, startBerthContainerd } from "../../helpers/berth-containerd.ts";
import { type FakeRegistry, publishImage, startFakeRegistry } from "../../helpers/fake-registry.ts";

const skip = process.getuid?.() !== 0 ? "needs root" : !existsSync("/usr/bin/ctr") ? "ctr not installed" : undefined;

describe("staged layer extraction equals layer-by-layer unpacking", { skip }, () => {
  let d: BerthContainerd & { cleanup(): Promise<void> };
  let reg: FakeRegistry;
  before(async () => {
    d = await startBerthContainerd();
    reg = await startFakeRegistry();
  });
  after(async () => {
    await reg?.stop();
    await d?.cleanup();
  });

  test("same tree through the transfer service and through ctr", { timeout: 120_000 }, async () => {
    const layers = [
      await gzipLayer([
        { name: "etc", type: "directory", mode: 0o750, uid: 7 },
        { name: "etc/a", body: "a" },
        { name: "etc/b", body: "b" },
        { name: "opt", type: "directory", mode: 0o711 },
        { name: "opt/old", body: "old" },
      ]),
      // No "etc" entry: the staged copy must take etc's owner and mode from the layer below.
      await gzipLayer([
        { name: "etc/.wh.a" },
        { name: "etc/c", body: "c" },
        { name: "opt/.wh..wh..opq" },
        { name: "opt/new", body: "new" },
      ]),
      await gzipLayer([
        { name: "etc/b", body: "b2" },
        { name: "srv/deep/file", body: "deep" },
      ]),
    ];
    publishImage(reg, "staging/image", "1", layers);
    const ref = `${reg.host}/staging/image:1`;
    await transferPull(d.address, ref, { namespace: "staged" });
    const ctr = await d.ctrAsync(["images", "pull", "--plain-http", ref], { namespace: "plain" });
    assert.equal(ctr.status, 0, ctr.stderr);

    const listing = async (ns: string): Promise<string> => {
      const snaps = d.ctr(["snapshots", "ls"], { namespace: ns }).stdout.trim().split("\n").slice(1);
      const parents = new Set(snaps.map((l) => l.split(/\s+/)[1]));
      const top = snaps.map((l) => l.split(/\s+/)[0]!).find((k) => !parents.has(k))!;
      const mnt = join(d.dir, `mnt-${ns}`);
      mkdirSync(mnt, { recursive: true });
      // Labelled as a GC root: an unlabelled view is garbage to a collection (containerd's too),
      // and one may still be pending from the pulls' released leases.
      const remote = new RemoteContainerd(d.address, { namespace: ns });
      const { mounts } = await remote.snapshots.view({
        snapshotter: "overlayfs",
        key: `view-${ns}`,
        parent: top,
        labels: { "containerd.io/gc.root": "test" },
      });
      remote.close();
      const m = mounts[0]!;
      execFileSync("mount", ["-t", m.type, "-o", m.options.join(","), m.source, mnt]);
      try {
        return execFileSync(
          "sh",
          ["-c", "find . -printf '%p %y %m %U %G %s\\n' | sort; find . -type f -exec cat {} + | sha256sum"],
          {
            cwd: mnt,
            encoding: "utf8",
          },
        );
      } finally {
        execFileSync("umount", [mnt]);
      }
    };
    const staged = await listing("staged");
    assert.equal(staged, await listing("plain"));
    assert.match(staged, /^\.\/etc d 750 7 7 /m, "etc keeps the lower layer's owner and mode");
    assert.doesNotMatch(staged, /\.\/etc\/a /, "the whiteout hides etc/a");
    assert.doesNotMatch(staged, /\.\/opt\/old /, "the opaque directory hides opt/old");
  });
});
