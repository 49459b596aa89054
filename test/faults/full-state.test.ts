// A full filesystem under --state (issue 11, item 9): task create writes the bundle there
// (config.json, shim-binary). On a full tmpfs the bundle directory is made (it takes no pages)
// but its files are not, and the answer was "ENOSPC: no space left on device, write: unknown",
// naming no file. Now it is "write <bundle>/config.json: no space left on device", nothing of the
// task is left (bundle, shim, mounts), the daemon stays up, and the run succeeds once space is
// freed.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { makeTempDir } from "../fixtures/busybox.ts";
import { writeImageArchive } from "../fixtures/oci-image.ts";
import { CTR } from "../helpers/berth-containerd.ts";
import { leftovers } from "../helpers/invariants.ts";
import { type SmallFsDaemon, startOnSmallFs } from "../helpers/small-fs.ts";

const NS = "faults";
const IMAGE = "docker.io/faults/busybox:1";
const skip = process.getuid?.() !== 0 ? "fault tests run as root" : !existsSync(CTR) ? "ctr not installed" : undefined;

describe("a full filesystem under --state", { skip }, () => {
  let work: string;
  let archive: string;
  before(async () => {
    work = await makeTempDir("berth-full-state-");
    archive = join(work, "busybox.tar");
    await writeImageArchive(archive, { name: IMAGE });
  });
  /** The busybox image, imported into NS of `d` (whose --root has room). */
  const importImage = async (d: SmallFsDaemon) => {
    const imported = await d.ctrAsync(["images", "import", archive], { namespace: NS });
    assert.equal(imported.status, 0, imported.stderr);
  };
  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  test("task create answers ENOSPC naming the bundle file, leaves nothing, and runs once space is freed", {
    timeout: 120_000,
  }, async (t) => {
    const d = await startOnSmallFs("state", { kind: "tmpfs", sizeMiB: 16 });
    try {
      await importImage(d);

      d.fs.fill(0);
      const full = await d.ctrAsync(["run", "--rm", IMAGE, "full-c1", "true"], { namespace: NS });
      t.diagnostic(`run on a full --state: ${full.stderr.trim()}`);
      assert.notEqual(full.status, 0, `the run succeeded on a full --state: ${full.stdout}`);
      assert.match(full.stderr, /no space left on device/);
      const bundle = join(d.state, "io.containerd.runtime.v2.task", NS, "full-c1");
      assert.ok(full.stderr.includes(`${bundle}/`), `the answer names the file in ${bundle}: ${full.stderr}`);
      assert.doesNotThrow(() => process.kill(d.pid!, 0), "the daemon is still running");
      assert.equal(d.ctr(["version"]).status, 0);
      d.ctr(["containers", "rm", "full-c1"], { namespace: NS });
      const scope = { dir: d.dir, state: d.state, address: d.address, namespace: NS, ids: ["full-c1"], spares: 1 };
      const isFsMount = (l: string) => l === `mount ${d.fs.dir}`;
      assert.deepEqual(
        leftovers(scope).filter((l) => !isFsMount(l)),
        [],
        "left after the refused create",
      );

      await d.fs.free();
      const again = await d.ctrAsync(["run", "--rm", IMAGE, "full-c2", "echo", "hello"], { namespace: NS });
      assert.equal(again.status, 0, `run after space was freed: ${again.stderr}`);
      assert.equal(again.stdout.trim(), "hello");
      let left: string[] = [];
      for (let i = 0; i < 30; i++) {
        left = leftovers({ ...scope, ids: ["full-c1", "full-c2"] }).filter((l) => !isFsMount(l));
        if (left.length === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.deepEqual(left, [], "left after the run");
    } finally {
      await d.cleanup();
    }
  });

  // With a few KiB left, the bundle's config.json fits and the shim's own files do not (its
  // address file, runtime.json): those answers named no file either ("write: unknown").
  test("a nearly full --state: whichever write fails, the answer names its file", { timeout: 180_000 }, async (t) => {
    const d = await startOnSmallFs("state", { kind: "tmpfs", sizeMiB: 16 });
    try {
      await importImage(d);
      let refused = 0;
      for (const kib of [4, 8, 12, 16, 24, 32]) {
        const id = `nearly-${kib}`;
        await d.fs.free();
        d.fs.fill(kib * 1024);
        const r = await d.ctrAsync(["run", "--rm", IMAGE, id, "true"], { namespace: NS });
        d.ctr(["containers", "rm", id], { namespace: NS });
        if (r.status === 0) continue;
        refused++;
        t.diagnostic(`${kib} KiB left: ${r.stderr.trim()}`);
        assert.match(r.stderr, /no space left on device/, `${kib} KiB left`);
        assert.ok(
          r.stderr.includes(`${d.state}/`),
          `${kib} KiB left: the answer names a file under --state: ${r.stderr}`,
        );
        assert.equal(d.ctr(["version"]).status, 0, "the daemon is still up");
      }
      t.diagnostic(`${refused} of 6 runs refused`);
      assert.ok(refused > 0, "no run was refused: the filler left too much room");
    } finally {
      await d.cleanup();
    }
  });
});
