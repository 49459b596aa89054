// Hole: a shim group annotation (`io.containerd.runc.v2.group`) is the container's own choice, and
// the shim's socket path was the hash of path.join(daemon address, namespace, group), which
// normalises: in namespace `ns1` the group `../ns2/x` hashed to the same path as container `x` of
// namespace `ns2` (or ns2's group `x`). The task was then handed to ns2's shim: the daemon wrote
// that shim's address into the ns1 bundle and sent ns1's Create to it. The shim's own namespace
// check refused it ("this shim serves namespace ns2, not ns1"), so the container could not run;
// without that check one namespace's task would have run in another namespace's shim.
// The attacker is a client of one namespace who can set annotations on its own containers.
// Host-side check: the grouped task's bundle names a socket of its own, not ns2's shim's, and
// each namespace's task runs.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { socketPathFor } from "../../src/shim/start.ts";
import { writeImageArchive } from "../fixtures/oci-image.ts";
import {
  type BerthContainerd,
  BUSYBOX_IMAGE,
  CTR,
  type CtrResult,
  startWithBusybox,
} from "../helpers/berth-containerd.ts";

const skip = process.getuid?.() !== 0 ? "root only" : existsSync(CTR) ? undefined : "needs ctr";
const GROUP = "io.containerd.runc.v2.group";

const ok = (r: CtrResult, what: string) => {
  assert.equal(r.status, 0, `${what}: ${r.stderr}${r.stdout}`);
  return r.stdout;
};

describe("a shim group stays inside its namespace", { skip }, () => {
  let d: BerthContainerd & { cleanup(): Promise<void> };

  before(async () => {
    d = await startWithBusybox([], "ns2");
    const archive = join(d.dir, "busybox-ns1.tar");
    await writeImageArchive(archive, { name: BUSYBOX_IMAGE });
    ok(await d.ctrAsync(["images", "import", archive], { namespace: "ns1" }), "import into ns1");
  });

  after(async () => {
    await d?.cleanup();
  });

  test("socket paths: a group that names a path cannot meet another namespace's", () => {
    const addr = "/run/berth/containerd/containerd.sock";
    assert.notEqual(socketPathFor(addr, "ns1", "../ns2/x"), socketPathFor(addr, "ns2", "x"));
    assert.notEqual(socketPathFor(addr, "ns1", "a/../x"), socketPathFor(addr, "ns1", "x"));
    assert.notEqual(socketPathFor(addr, "ns", "1/x"), socketPathFor(addr, "ns/1", "x"));
    assert.equal(socketPathFor(addr, "ns1", "g"), socketPathFor(addr, "ns1", "g"));
  });

  test("`../ns2/pod` in ns1 gets its own shim, not the shim of ns2's group `pod`", { timeout: 120_000 }, async () => {
    // The victim's shim serves a group (a pod's sandbox, as CRI asks): its socket is the hashed one.
    ok(
      await d.ctrAsync(["run", "-d", "--annotation", `${GROUP}=pod`, BUSYBOX_IMAGE, "x", "sleep", "1000"], {
        namespace: "ns2",
      }),
      "run x in ns2's group pod",
    );
    ok(
      await d.ctrAsync(["run", "-d", "--annotation", `${GROUP}=../ns2/pod`, BUSYBOX_IMAGE, "y", "sleep", "1000"], {
        namespace: "ns1",
      }),
      "run y in ns1 with the group annotation",
    );
    const tasks = join(d.state, "io.containerd.runtime.v2.task");
    const x = readFileSync(join(tasks, "ns2", "x", "address"), "utf8");
    const y = readFileSync(join(tasks, "ns1", "y", "address"), "utf8");
    assert.notEqual(y, x, "ns1's task is served by ns2's shim");
    // Each namespace sees its own task only, and each task is running.
    assert.match(ok(await d.ctrAsync(["task", "ls"], { namespace: "ns1" }), "ls ns1"), /^y\s+\d+\s+RUNNING/m);
    assert.match(ok(await d.ctrAsync(["task", "ls"], { namespace: "ns2" }), "ls ns2"), /^x\s+\d+\s+RUNNING/m);
  });
});
