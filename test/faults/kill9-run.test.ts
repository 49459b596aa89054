// kill -9 of berth-containerd at random points of `ctr run -d` (container create, snapshot
// prepare, shim start, task create and start): the daemon starts again on the same dirs, the
// metadata references only what is on disk, whatever the run left (a container, a task in any
// state, or nothing) can be removed, after which no bundle, shim, mount, socket or cgroup of it is
// left, and a run with the same id then succeeds.
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
  timedCtr,
} from "../helpers/fault-loop.ts";

const NS = "faults";
/** Container ids carry the test process's tag: their cgroups (/<ns>/<id>) are host-wide. */
const TAG = process.pid.toString(36);
const IMAGE = "docker.io/berth/faults-busybox:latest";
const skip = process.getuid?.() !== 0 ? "needs root" : !existsSync("/usr/bin/ctr") ? "ctr not installed" : undefined;

describe("kill -9 at random points of ctr run", { skip }, () => {
  let d: BerthContainerd & { cleanup(): Promise<void> };
  let fifos: string;
  before(async () => {
    ({ d, fifos } = await startForContainers({ image: IMAGE, importInto: NS }));
  });
  after(async () => {
    await d?.cleanup();
    removeNamespaceCgroups(NS);
  });

  test("the daemon restarts consistent, the remains go and the same id runs again", {
    timeout: 600_000,
  }, async (t) => {
    const { random, n } = faultRun(t, 8);
    const run = (id: string) => ["run", "-d", "--fifo-dir", fifos, IMAGE, id, "sleep", "3600"];
    const ids = new Set<string>();

    const times: number[] = [];
    for (let i = 0; i < 2; i++) {
      const id = `calibrate${i}-${TAG}`;
      ids.add(id);
      const base = await timedCtr(d, run(id), NS);
      assert.equal(base.r.status, 0, base.r.stderr);
      times.push(base.ms);
      await removeContainer(d, id, NS, "calibration");
    }
    const windowMs = Math.round(Math.min(...times) * 1.2) + 50;
    t.diagnostic(`undisturbed runs took ${times.join(", ")} ms; kills fall in 0-${windowMs} ms`);

    const sockets = new Set<string>(spareSockets(d));
    let during = 0;
    for (let i = 0; i < n; i++) {
      const it0 = Date.now();
      const id = `run${i}-${TAG}`;
      ids.add(id);
      const delay = Math.floor(random() * windowMs);
      const k = await ctrAndKill(d, run(id), delay, { namespace: NS });
      if (k.during) during++;
      const what = `iteration ${i}: kill -9 ${delay} ms into ctr run ${id} (${killPoint(k)})`;
      const restartMs = await restart(d, what);
      for (const s of spareSockets(d)) sockets.add(s);
      assertReferences(d, what, (line) => t.diagnostic(line));

      await removeContainer(d, id, NS, what);
      await assertNoLeftovers(d, { namespace: NS, ids: [id] }, `${what}, then removed`);
      const again = await d.ctrAsync(run(id), { namespace: NS });
      assert.equal(again.status, 0, `${what}: running ${id} again: ${again.stderr}`);
      const listed = (await d.ctrAsync(["task", "ls"], { namespace: NS })).stdout;
      assert.match(listed, new RegExp(`^${id}\\s+\\d+\\s+RUNNING`, "m"), `${what}: ${id} again: ${listed}`);
      await removeContainer(d, id, NS, `${what}, run again`);
      for (const s of spareSockets(d)) sockets.add(s);
      t.diagnostic(`${what}: restarted in ${restartMs} ms; the iteration took ${Date.now() - it0} ms`);
    }
    t.diagnostic(`${n} iterations: ${during} kills during ctr run, ${n - during} after it ended`);
    assertReferences(d, "at the end");
    await assertCleanAfterStop(d, { namespace: NS, ids, sockets });
  });
});
