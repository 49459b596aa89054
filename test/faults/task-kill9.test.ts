// kill -9 during task create and task delete, of berth-containerd and of the task's shim. A task
// lives in its shim (the database has no row for it), so what a restart finds must be one of two
// things: a live task, listed by `ctr task ls` and deletable, or nothing (no shim, bundle, rootfs
// mount or runtime state of it). Before, a daemon killed while the shim deleted the task, or while
// the shim created it (ctr, gone with the daemon's answer, removed its fifos and the shim's
// Create failed), left a shim holding no task behind a bundle: the restarted daemon reconnected
// to it, `task ls` hid it, `task delete` said not found, and after `c rm` the id could never run
// again ("already exists").
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type BerthContainerd, CTR, type CtrResult } from "../helpers/berth-containerd.ts";
import {
  assertCleanAfterStop,
  assertNoLeftovers,
  ctrAndKill,
  faultIterations,
  faultSeed,
  removeContainer,
  restart,
  seededRandom,
  spareSockets,
  startForContainers,
  timedCtr,
} from "../helpers/fault-loop.ts";
import { mountsUnder, shimsOf } from "../helpers/invariants.ts";

const NS = "faults";
const IMAGE = "docker.io/berth/faults-busybox:latest";
const skip = process.getuid?.() !== 0 ? "needs root" : !existsSync(CTR) ? "ctr not installed" : undefined;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe("kill -9 during task create and delete", { skip }, () => {
  let d: BerthContainerd & { cleanup(): Promise<void> };
  let fifos: string;
  const ids = new Set<string>();
  const sockets = new Set<string>();
  const bundleOf = (id: string) => join(d.state, "io.containerd.runtime.v2.task", NS, id);
  const run = (id: string) => ["run", "-d", "--fifo-dir", fifos, IMAGE, id, "sleep", "3600"];

  before(async () => {
    ({ d, fifos } = await startForContainers({ image: IMAGE, importInto: NS }));
  });
  after(async () => {
    await d?.cleanup();
  });

  /** `ctr task ls` as id → status. */
  const tasks = async (): Promise<Map<string, string>> => {
    const r = await d.ctrAsync(["task", "ls"], { namespace: NS });
    assert.equal(r.status, 0, `ctr task ls: ${r.stderr}`);
    const m = new Map<string, string>();
    for (const line of r.stdout.split("\n").slice(1)) {
      const [id, , status] = line.trim().split(/\s+/);
      if (id && status) m.set(id, status);
    }
    return m;
  };

  /**
   * The rule: a task is listed (and then deletable), or nothing of it is left. Retried for up to
   * `waitMs`, for a daemon still cleaning up after a shim that died under it.
   */
  const liveOrGone = async (id: string, what: string, waitMs = 0): Promise<string> => {
    for (let waited = 0; ; waited += 100) {
      const status = (await tasks()).get(id);
      if (status) return status;
      const left = [
        ...(existsSync(bundleOf(id)) ? [`bundle ${bundleOf(id)}`] : []),
        ...(existsSync(join(d.state, "runc", NS, id)) ? [`runtime state ${join(d.state, "runc", NS, id)}`] : []),
        ...mountsUnder(bundleOf(id)).map((m) => `mount ${m}`),
      ];
      if (left.length === 0) return "gone";
      if (waited >= waitMs) assert.fail(`${what}: task ${id} is not listed, but left: ${left.join(", ")}`);
      await sleep(100);
    }
  };

  /** Whatever the fault left of `id` can be removed, nothing is left, and `id` runs again. */
  const finishAndRerun = async (id: string, status: string, what: string) => {
    if (status !== "gone") {
      const r = await d.ctrAsync(["task", "delete", "--force", id], { namespace: NS });
      assert.equal(r.status, 0, `${what}: task ${id} is listed ${status} but ctr task delete --force: ${r.stderr}`);
    }
    await removeContainer(d, id, NS, what);
    await assertNoLeftovers(d, { namespace: NS, ids: [id] }, `${what}, then removed`);
    const again = await d.ctrAsync(run(id), { namespace: NS });
    assert.equal(again.status, 0, `${what}: running ${id} again: ${again.stderr}`);
    assert.equal((await tasks()).get(id), "RUNNING", `${what}: ${id} again`);
    await removeContainer(d, id, NS, `${what}, run again`);
    for (const s of spareSockets(d)) sockets.add(s);
  };

  /** A running task `id`, stopped unless `running`. */
  const setUp = async (id: string, running: boolean) => {
    ids.add(id);
    const r = await d.ctrAsync(run(id), { namespace: NS });
    assert.equal(r.status, 0, `ctr run ${id}: ${r.stderr}`);
    if (running) return;
    const k = await d.ctrAsync(["task", "kill", "-s", "SIGKILL", id], { namespace: NS });
    assert.equal(k.status, 0, k.stderr);
    for (let i = 0; i < 50 && (await tasks()).get(id) !== "STOPPED"; i++) await sleep(100);
    assert.equal((await tasks()).get(id), "STOPPED", `${id} did not stop`);
  };

  /** The deletions the faults interrupt: a stopped task; a running one (--force); task and container. */
  const deletions = (id: string): { name: string; running: boolean; args: string[][] }[] => [
    { name: "task delete", running: false, args: [["task", "delete", id]] },
    { name: "task delete --force", running: true, args: [["task", "delete", "--force", id]] },
    {
      name: "task delete; c rm",
      running: false,
      args: [
        ["task", "delete", id],
        ["containers", "rm", id],
      ],
    },
  ];

  test("kill -9 of the daemon: after a restart the task is live or gone", { timeout: 600_000 }, async (t) => {
    const seed = faultSeed();
    const random = seededRandom(seed);
    const n = faultIterations(4);
    t.diagnostic(`seed ${seed} (BERTH_FAULT_SEED=${seed} replays it), ${n} iterations of create and of delete`);
    for (const s of spareSockets(d)) sockets.add(s);

    // How long the undisturbed operations take: the kills are spread over that.
    const calibrate = async (id: string) => {
      ids.add(id);
      const created = await timedCtr(d, run(id), NS);
      assert.equal(created.r.status, 0, created.r.stderr);
      await d.ctrAsync(["task", "kill", "-s", "SIGKILL", id], { namespace: NS });
      for (let i = 0; i < 50 && (await tasks()).get(id) !== "STOPPED"; i++) await sleep(100);
      const deleted = await timedCtr(d, ["task", "delete", id], NS);
      assert.equal(deleted.r.status, 0, deleted.r.stderr);
      await removeContainer(d, id, NS, "calibration");
      return { create: created.ms, delete: deleted.ms };
    };
    const c = [await calibrate("calibrate0"), await calibrate("calibrate1")];
    const createMs = Math.round(Math.min(...c.map((x) => x.create)) * 1.2) + 50;
    const deleteMs = Math.round(Math.min(...c.map((x) => x.delete)) * 1.5) + 50;
    t.diagnostic(
      `undisturbed: ctr run -d ${c.map((x) => x.create).join(", ")} ms, task delete ${c.map((x) => x.delete).join(", ")} ms`,
    );

    const outcomes = new Map<string, number>();
    const count = (k: string) => outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
    for (let i = 0; i < n; i++) {
      const id = `create${i}`;
      ids.add(id);
      const delay = Math.floor(random() * createMs);
      const k = await ctrAndKill(d, run(id), delay, { namespace: NS });
      const what = `create ${i}: kill -9 ${delay} ms into ctr run ${id} (${k.during ? "during it" : "after it ended"})`;
      await restart(d, what);
      const status = await liveOrGone(id, what);
      count(`create: ${status}`);
      t.diagnostic(`${what}: after the restart ${id} is ${status}`);
      await finishAndRerun(id, status, what);
    }
    for (let i = 0; i < n; i++) {
      const id = `delete${i}`;
      const del = deletions(id)[i % 3]!;
      await setUp(id, del.running);
      const delay = Math.floor(random() * deleteMs * del.args.length);
      const k = await ctrAndKill(d, del.args, delay, { namespace: NS });
      const what = `delete ${i}: kill -9 ${delay} ms into ctr ${del.name} (${k.during ? "during it" : "after it ended"})`;
      await restart(d, what);
      const status = await liveOrGone(id, what);
      count(`${del.name}: ${status}`);
      t.diagnostic(`${what}: after the restart ${id} is ${status}`);
      await finishAndRerun(id, status, what);
    }
    t.diagnostic(`${2 * n} kills: ${[...outcomes].map(([k, v]) => `${k} ${v}`).join(", ")}`);
  });

  test("kill -9 of the daemon while the shim's runtime creates or deletes", { timeout: 300_000 }, async (t) => {
    // Precise points, without a hook in the daemon: a runtime wrapper (ctr run --runc-binary)
    // says when the shim's runtime create or delete has begun and takes 1.5 s over it, and the
    // daemon is killed then. The shim finishes alone: a created task must be listed once the
    // daemon is back, a deleted one must leave nothing.
    const wrapper = join(d.dir, "slow-runc");
    const marks = join(d.dir, "marks");
    await mkdir(marks);
    // The runtime of the daemon under test's build.
    const runc = join(dirname(d.binary), "berth-runc.mjs");
    await writeFile(
      wrapper,
      `#!/bin/sh\nfor a in "$@"; do case "$a" in create|delete) touch "${marks}/$a"; sleep 1.5; break;; esac; done\nexec ${runc} "$@"\n`,
      { mode: 0o755 },
    );
    const slowRun = (id: string) => [
      "run",
      "-d",
      "--runc-binary",
      wrapper,
      "--fifo-dir",
      fifos,
      IMAGE,
      id,
      "sleep",
      "3600",
    ];
    /** Runs ctr ARGS, kill -9's the daemon once the runtime's `step` began, restarts it. */
    const killAt = async (args: string[][], step: "create" | "delete", what: string) => {
      await rm(join(marks, step), { force: true });
      const argv = (a: string[]) => [CTR, "--address", d.address, "--namespace", NS, ...a];
      const q = (x: string) => `'${x.replaceAll("'", "'\\''")}'`;
      const child = spawn("sh", ["-c", args.map((a) => argv(a).map(q).join(" ")).join("; ")], { stdio: "ignore" });
      const done = new Promise<void>((r) => child.on("close", () => r()));
      for (let i = 0; i < 200 && !existsSync(join(marks, step)); i++) await sleep(25);
      assert.ok(existsSync(join(marks, step)), `${what}: the runtime's ${step} never began`);
      await d.kill9();
      await done;
      await restart(d, what);
    };
    const n = faultIterations(1);
    t.diagnostic(`${n} iterations of each point`);
    for (let i = 0; i < n; i++) {
      const cases: {
        name: string;
        id: string;
        setUp?: boolean;
        args: (id: string) => string[][];
        step: "create" | "delete";
      }[] = [
        {
          name: "ctr run -d, during the runtime's create",
          id: `slow-create${i}`,
          args: (id) => [slowRun(id)],
          step: "create",
        },
        {
          name: "ctr task delete, during the runtime's delete",
          id: `slow-delete${i}`,
          setUp: true,
          args: (id) => [["task", "delete", id]],
          step: "delete",
        },
        {
          name: "ctr task delete; c rm, during the runtime's delete",
          id: `slow-rm${i}`,
          setUp: true,
          args: (id) => [
            ["task", "delete", id],
            ["containers", "rm", id],
          ],
          step: "delete",
        },
      ];
      for (const c of cases) {
        ids.add(c.id);
        if (c.setUp) {
          const r = await d.ctrAsync(slowRun(c.id), { namespace: NS });
          assert.equal(r.status, 0, `ctr run ${c.id}: ${r.stderr}`);
          await d.ctrAsync(["task", "kill", "-s", "SIGKILL", c.id], { namespace: NS });
          for (let k = 0; k < 50 && (await tasks()).get(c.id) !== "STOPPED"; k++) await sleep(100);
        }
        const what = `kill -9 of the daemon at ${c.name} (${c.id})`;
        await killAt(c.args(c.id), c.step, what);
        const status = await liveOrGone(c.id, what);
        t.diagnostic(`${what}: after the restart ${c.id} is ${status}`);
        if (c.step === "create")
          assert.notEqual(status, "gone", `${what}: the shim finished the create, so the task is live`);
        else assert.equal(status, "gone", `${what}: the shim finished the delete, so the task is gone`);
        await finishAndRerun(c.id, status, what);
      }
    }
  });

  test("kill -9 of the shim: the task is live or gone", { timeout: 300_000 }, async (t) => {
    const seed = faultSeed();
    const random = seededRandom(seed + 1);
    const n = faultIterations(2);
    t.diagnostic(`seed ${seed}, ${n} iterations of create and of delete`);
    /** The shim serving `id`: the one whose socket the bundle's address names. */
    const shimOf = (id: string) => {
      try {
        const socket = readFileSync(join(bundleOf(id), "address"), "utf8").replace(/^unix:\/\//, "");
        return shimsOf(d.address).find((p) => p.socket === socket)?.pid;
      } catch {
        return undefined;
      }
    };
    /** Runs ctr ARGS and kill -9's the pid `victim()` names `delayMs` after; resolves ctr's result. */
    const ctrAndKillShim = async (args: string[], delayMs: number, victim: () => number | undefined) => {
      const child = spawn(CTR, ["--address", d.address, "--namespace", NS, ...args], { stdio: "ignore" });
      const done = new Promise<CtrResult>((r) =>
        child.on("close", (code) => r({ status: code ?? -1, stdout: "", stderr: "" })),
      );
      await sleep(delayMs);
      let pid = victim();
      try {
        if (pid !== undefined) process.kill(pid, "SIGKILL");
      } catch {
        pid = undefined; // it had exited already (the operation was over)
      }
      await done;
      return pid;
    };
    for (let i = 0; i < n; i++) {
      // Create: the shim that takes the task is the spare when one is ready, else started for it.
      const id = `shim-create${i}`;
      ids.add(id);
      const spare = shimsOf(d.address).find((p) => p.spare)?.pid;
      // Spread over ctr run: its container create, the shim's Create and the runtime's.
      const delay = 150 + Math.floor(random() * 800);
      const killed = await ctrAndKillShim(run(id), delay, () => spare ?? shimOf(id));
      const what = `shim create ${i}: kill -9 of shim ${killed ?? "(none: it had exited)"} ${delay} ms into ctr run ${id}`;
      const status = await liveOrGone(id, what, 5000);
      t.diagnostic(`${what}: ${id} is ${status}`);
      await finishAndRerun(id, status, what);
    }
    for (let i = 0; i < n; i++) {
      const id = `shim-delete${i}`;
      await setUp(id, false);
      const delay = Math.floor(random() * 120); // a delete takes ~100-200 ms
      const shim = shimOf(id);
      const killed = await ctrAndKillShim(["task", "delete", id], delay, () => shim);
      const what = `shim delete ${i}: kill -9 of shim ${killed ?? "(none: it had exited)"} ${delay} ms into ctr task delete ${id}`;
      const status = await liveOrGone(id, what, 5000);
      t.diagnostic(`${what}: ${id} is ${status}`);
      await finishAndRerun(id, status, what);
    }
    // And the daemon restarts clean after all of it.
    await d.kill9();
    await restart(d, "after the shim kills");
    await assertCleanAfterStop(d, { namespace: NS, ids, sockets });
  });
});
