// kill -9 of berth-containerd at random points of deleting a running container: `ctr task
// delete --force` (kill, wait, shim delete, unmount, bundle), `ctr containers rm` (row, snapshot)
// and, every other time, `ctr images rm` of its image. After the restart the metadata references
// only what is on disk, the deletion can be finished (whatever is left is still listed, or is
// gone), no bundle, shim, mount, socket or cgroup of the container is left, and a container with
// the same id runs again.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import type { BerthContainerd } from "../helpers/berth-containerd.ts";
import {
  assertCleanAfterStop,
  assertNoLeftovers,
  assertReferences,
  ctrAndKill,
  faultRun,
  killPoint,
  removeContainer,
  removeNamespaceCgroups,
  restart,
  spareSockets,
  startForContainers,
} from "../helpers/fault-loop.ts";

const NS = "faults";
/** Container ids carry the test process's tag: their cgroups (/<ns>/<id>) are host-wide. */
const TAG = process.pid.toString(36);
const IMAGE = "docker.io/berth/faults-busybox:latest";
const skip = process.getuid?.() !== 0 ? "needs root" : !existsSync("/usr/bin/ctr") ? "ctr not installed" : undefined;

describe("kill -9 at random points of deleting a container", { skip }, () => {
  let d: BerthContainerd & { cleanup(): Promise<void> };
  let fifos: string;
  let archive: string;
  before(async () => {
    ({ d, archive, fifos } = await startForContainers({ image: IMAGE }));
  });
  after(async () => {
    await d?.cleanup();
    removeNamespaceCgroups(NS);
  });

  test("the daemon restarts consistent, the deletion finishes and the id runs again", {
    timeout: 600_000,
  }, async (t) => {
    const { random, n } = faultRun(t, 8);
    const ensureImage = async () => {
      const listed = (await d.ctrAsync(["images", "ls", "-q"], { namespace: NS })).stdout.split("\n");
      if (listed.includes(IMAGE)) return;
      const r = await d.ctrAsync(["images", "import", archive], { namespace: NS });
      assert.equal(r.status, 0, `ctr images import: ${r.stderr}`);
    };
    const runRunning = async (id: string, what: string) => {
      await ensureImage();
      const r = await d.ctrAsync(["run", "-d", "--fifo-dir", fifos, IMAGE, id, "sleep", "3600"], { namespace: NS });
      assert.equal(r.status, 0, `${what}: ctr run ${id}: ${r.stderr}`);
    };
    const deletion = (id: string, withImage: boolean) => [
      ["task", "delete", "--force", id],
      ["containers", "rm", id],
      ...(withImage ? [["images", "rm", IMAGE]] : []),
    ];

    // The window: one undisturbed deletion (with the image), plus a margin for the collection the
    // image removal schedules.
    const calibration = `calibrate-${TAG}`;
    await runRunning(calibration, "calibration");
    const t0 = Date.now();
    for (const c of deletion(calibration, true)) {
      const r = await d.ctrAsync(c, { namespace: NS });
      assert.equal(r.status, 0, `${c.join(" ")}: ${r.stderr}`);
    }
    const windowMs = Math.round((Date.now() - t0) * 1.2) + 150;
    t.diagnostic(`an undisturbed deletion took ${Date.now() - t0} ms; kills fall in 0-${windowMs} ms`);

    const ids = new Set<string>([calibration]);
    const sockets = new Set<string>(spareSockets(d));
    let during = 0;
    for (let i = 0; i < n; i++) {
      const it0 = Date.now();
      const id = `del${i}-${TAG}`;
      ids.add(id);
      await runRunning(id, `iteration ${i}`);
      const withImage = i % 2 === 1;
      const delay = Math.floor(random() * windowMs);
      for (const s of spareSockets(d)) sockets.add(s);
      const k = await ctrAndKill(d, deletion(id, withImage), delay, { namespace: NS });
      if (k.during) during++;
      const what = `iteration ${i}: kill -9 ${delay} ms into deleting ${id}${withImage ? " and its image" : ""} (${killPoint(k)})`;
      const restartMs = await restart(d, what);
      for (const s of spareSockets(d)) sockets.add(s);
      assertReferences(d, what, (line) => t.diagnostic(line));

      await removeContainer(d, id, NS, what);
      if (withImage) {
        const r = await d.ctrAsync(["images", "rm", "--sync", IMAGE], { namespace: NS });
        assert.ok(r.status === 0 || /not found/.test(r.stderr), `${what}: ctr images rm: ${r.stderr}`);
      }
      await assertNoLeftovers(d, { namespace: NS, ids: [id] }, `${what}, then the deletion finished`);
      assertReferences(d, `${what}, then the deletion finished`);
      await runRunning(id, `${what}, then the same id again`);
      await removeContainer(d, id, NS, `${what}, run again`);
      t.diagnostic(`${what}: restarted in ${restartMs} ms; the iteration took ${Date.now() - it0} ms`);
    }
    t.diagnostic(`${n} iterations: ${during} kills during the deletion, ${n - during} after it ended`);
    await assertCleanAfterStop(d, { namespace: NS, ids, sockets });
  });
});
