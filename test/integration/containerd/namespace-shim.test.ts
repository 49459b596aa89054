// One berth-shim serves a namespace: ctr run's tasks that name no group join the shim already
// serving their namespace (a burst of them starts one shim, the spare taken for the first), tasks
// of another namespace or of a named group get their own, deleting one task leaves the shim to the
// others, and the shim exits with its namespace's last task. berth-containerd --shim-per-container
// gives every task a shim of its own, as before.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  type BerthContainerd,
  BUSYBOX_IMAGE,
  CTR,
  type CtrResult,
  retryUntil,
  startWithBusybox,
} from "../../helpers/berth-containerd.ts";
import { shimsOf } from "../../helpers/invariants.ts";

const skip =
  process.getuid?.() !== 0 ? "runs containers: root only" : !existsSync(CTR) ? "ctr not installed" : undefined;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
type Daemon = BerthContainerd & { cleanup(): Promise<void> };

const ok = (r: CtrResult, what: string) => {
  assert.equal(r.status, 0, `${what}: ${r.stderr}${r.stdout}`);
  return r.stdout;
};

/** The shim socket a task's bundle names. */
const socketOf = (d: BerthContainerd, ns: string, id: string) =>
  readFileSync(join(d.state, "io.containerd.runtime.v2.task", ns, id, "address"), "utf8").replace(/^unix:\/\//, "");

/** Shims serving tasks (not the idle spare): the ones whose socket some task's bundle names. */
const servingShims = (d: BerthContainerd, sockets: Set<string>) =>
  shimsOf(d.address).filter((p) => p.socket !== undefined && sockets.has(p.socket));

async function runDetached(d: BerthContainerd, ns: string, ids: string[], extra: string[] = []): Promise<void> {
  const runs = await Promise.all(
    ids.map((id) => d.ctrAsync(["run", "-d", ...extra, BUSYBOX_IMAGE, id, "sleep", "1000"], { namespace: ns })),
  );
  for (const [i, r] of runs.entries()) ok(r, `run ${ids[i]}`);
}

async function removeAll(d: BerthContainerd, ns: string, ids: string[]): Promise<void> {
  for (const id of ids) {
    await d.ctrAsync(["task", "delete", "--force", id], { namespace: ns });
    await d.ctrAsync(["containers", "rm", id], { namespace: ns });
  }
}

describe("one berth-shim per namespace", { skip }, () => {
  let d: Daemon;
  before(async () => {
    d = await startWithBusybox([], "nsa");
    const archive = join(d.dir, "busybox.tar");
    ok(await d.ctrAsync(["images", "import", archive], { namespace: "nsb" }), "import into nsb");
  });
  after(async () => {
    await d?.cleanup();
  });

  test("a namespace's tasks share its shim; another namespace and a named group get their own", {
    timeout: 120_000,
  }, async () => {
    // Five at once in a namespace that has no shim yet: one shim (the spare) takes them all.
    const a = ["a1", "a2", "a3", "a4", "a5"];
    await runDetached(d, "nsa", a);
    const aSockets = new Set(a.map((id) => socketOf(d, "nsa", id)));
    assert.equal(aSockets.size, 1, `nsa's tasks name one shim: ${[...aSockets].join(", ")}`);
    assert.equal(servingShims(d, aSockets).length, 1, "one process serves nsa");
    const shimPid = servingShims(d, aSockets)[0]!.pid;

    await runDetached(d, "nsb", ["b1"]);
    await runDetached(d, "nsa", ["g1", "g2"], ["--annotation", "io.containerd.runc.v2.group=grp"]);
    const bSocket = socketOf(d, "nsb", "b1");
    const gSockets = new Set(["g1", "g2"].map((id) => socketOf(d, "nsa", id)));
    assert.equal(gSockets.size, 1, "the group's tasks share a shim");
    const all = new Set([...aSockets, bSocket, ...gSockets]);
    assert.equal(all.size, 3, "nsa, nsb and the group: three shims");
    assert.equal(servingShims(d, all).length, 3);

    // Deleting tasks leaves the namespace's shim to the others, which keep working.
    ok(await d.ctrAsync(["task", "kill", "-s", "SIGKILL", "a1"], { namespace: "nsa" }), "kill a1");
    await retryUntil(
      () => d.ctrAsync(["task", "ls"], { namespace: "nsa" }),
      (r) => /^a1\s+\d+\s+STOPPED/m.test(r.stdout),
    );
    ok(await d.ctrAsync(["task", "delete", "a1"], { namespace: "nsa" }), "delete a1");
    ok(await d.ctrAsync(["containers", "rm", "a1"], { namespace: "nsa" }), "rm a1");
    await sleep(1000); // past the shim's grace for a shared shim with no task
    assert.ok(existsSync(`/proc/${shimPid}`), "nsa's shim stays while it has tasks");
    assert.equal(
      ok(await d.ctrAsync(["task", "exec", "--exec-id", "e1", "a2", "echo", "still"], { namespace: "nsa" }), "exec"),
      "still\n",
    );
    const ls = ok(await d.ctrAsync(["task", "ls"], { namespace: "nsa" }), "ls");
    for (const id of ["a2", "a3", "a4", "a5"]) assert.match(ls, new RegExp(`^${id}\\s+\\d+\\s+RUNNING`, "m"));

    // A task started once the namespace has its shim joins it: no new shim, the spare stays idle.
    const spares = shimsOf(d.address).filter((p) => p.spare && !all.has(p.socket ?? ""));
    await runDetached(d, "nsa", ["a6"]);
    assert.equal(socketOf(d, "nsa", "a6"), [...aSockets][0], "a6 joins nsa's shim");
    assert.deepEqual(
      shimsOf(d.address)
        .filter((p) => p.spare && !all.has(p.socket ?? ""))
        .map((p) => p.pid),
      spares.map((p) => p.pid),
      "the spare is not taken by a namespace that has a shim",
    );

    await removeAll(d, "nsa", ["a2", "a3", "a4", "a5", "a6", "g1", "g2"]);
    await removeAll(d, "nsb", ["b1"]);
    for (let i = 0; i < 50 && servingShims(d, all).length > 0; i++) await sleep(100);
    assert.deepEqual(servingShims(d, all), [], "every shim exits with its last task");
    for (const s of all) assert.ok(!existsSync(s), `socket ${s} removed`);
  });
});

describe("berth-containerd --shim-per-container", { skip }, () => {
  let d: Daemon;
  before(async () => {
    d = await startWithBusybox(["--shim-per-container"], "nsc");
  });
  after(async () => {
    await d?.cleanup();
  });

  test("every task that names no group gets a shim of its own", { timeout: 120_000 }, async () => {
    const ids = ["c1", "c2", "c3"];
    await runDetached(d, "nsc", ids);
    const sockets = new Set(ids.map((id) => socketOf(d, "nsc", id)));
    assert.equal(sockets.size, 3, "three shims");
    assert.equal(servingShims(d, sockets).length, 3);
    await removeAll(d, "nsc", ids);
    for (let i = 0; i < 50 && servingShims(d, sockets).length > 0; i++) await sleep(100);
    assert.deepEqual(servingShims(d, sockets), []);
  });
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Waits until `pid` has exited; false if it still runs after `ms`. */
async function gone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (alive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

/** Runs task `id` (detached), returns its shim's socket and pid, and deletes the task. */
async function runAndDelete(d: BerthContainerd, id: string): Promise<{ socket: string; pid: number }> {
  await runDetached(d, "default", [id]);
  const socket = socketOf(d, "default", id);
  const shim = servingShims(d, new Set([socket]));
  assert.equal(shim.length, 1, `one shim serves ${id}`);
  await removeAll(d, "default", [id]);
  return { socket, pid: shim[0]!.pid };
}

describe("berth-containerd --shim-idle-ms", { skip }, () => {
  const IDLE_MS = 1500;

  test("the namespace's shim outlives its last task by the idle time, serves the next task, then exits", {
    timeout: 120_000,
  }, async () => {
    // Long enough for a task delete and the next run between them on a loaded machine (a fresh
    // run at load ~80 saw the 1.5 s shim gone before the second task).
    const LONG_IDLE_MS = 8_000;
    const d = await startWithBusybox(["--shim-idle-ms", String(LONG_IDLE_MS)]);
    try {
      const first = await runAndDelete(d, "i1");
      // Without the flag the shim exits with its last task (the test above).
      assert.ok(alive(first.pid), "the shim stays after its last task");
      assert.ok(existsSync(first.socket), "and keeps its socket");
      const second = await runAndDelete(d, "i2");
      assert.deepEqual(second, first, "the next task joined the same shim");
      assert.ok(await gone(first.pid, LONG_IDLE_MS + 10_000), "the idle shim exits after the idle time");
      assert.equal(existsSync(first.socket), false, "its socket is removed");
      // The next task gets a shim again (the spare).
      const third = await runAndDelete(d, "i3");
      assert.notEqual(third.pid, first.pid);
    } finally {
      await d.cleanup();
    }
  });

  test("a shim kept idle exits by itself when its daemon was killed meanwhile", { timeout: 120_000 }, async () => {
    const d = await startWithBusybox(["--shim-idle-ms", String(IDLE_MS)]);
    try {
      const { pid, socket } = await runAndDelete(d, "k1");
      await d.kill9();
      assert.ok(alive(pid), "the idle shim outlives its daemon for now");
      // The shim's own exit: the idle time and a margin (runtime/manager.ts IDLE_EXIT_MARGIN_MS, 20 s).
      assert.ok(await gone(pid, IDLE_MS + 20_000 + 15_000), "then exits by itself: no shim is left forever");
      assert.equal(existsSync(socket), false, "its socket is removed");
    } finally {
      await d.cleanup();
    }
  });
});
