// 200 containers through ctr → berth-containerd → berth-shim → berth-runc: some exit 0, some crash
// (non-zero exit, leaving an orphan), some are killed from outside, some fail to
// start (no such executable). Afterwards nothing of theirs remains: no mounts, cgroups, shim
// processes, shim sockets, keepers (processes or sockets), bundles or runtime state.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { keeperSocketPath } from "../../src/shim/keeper.ts";
import { socketPathFor } from "../../src/shim/start.ts";
import {
  type BerthContainerd,
  BUSYBOX_IMAGE,
  type CtrResult,
  shimPids,
  startWithBusybox,
} from "../helpers/berth-containerd.ts";
import { keepersUnder } from "../helpers/invariants.ts";

const IMAGE = BUSYBOX_IMAGE;
const TOTAL = 200;
const PARALLEL = 4;
const NS = "leaks";
const skip = process.getuid?.() !== 0 ? "interop tests run as root" : existsSync("/usr/bin/ctr") ? undefined : "no ctr";
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

type Daemon = BerthContainerd & { cleanup(): Promise<void> };

/** What each container does, by index. */
const KINDS = ["exit0", "exit1", "crash", "killed", "nostart"] as const;

describe("200 containers leave nothing behind", { skip }, () => {
  let d: Daemon;

  before(async () => {
    d = await startWithBusybox([], NS);
  });

  after(async () => {
    await d?.cleanup();
    // The namespace's parent cgroup (the runtime makes /<ns> for /<ns>/<id>, and leaves it as runc does).
    for (const hierarchy of readdirSync("/sys/fs/cgroup")) {
      try {
        rmdirSync(join("/sys/fs/cgroup", hierarchy, NS));
      } catch {}
    }
  });

  test("create and delete 200 containers", { timeout: 600_000 }, async () => {
    const ctr = (args: string[]) => d.ctrAsync(args, { namespace: NS, timeoutMs: 60_000 });
    const outcomes = new Map<string, number>();
    const sockets: string[] = [];
    const one = async (i: number) => {
      const id = `leak-${i}`;
      const kind = KINDS[i % KINDS.length]!;
      let r: CtrResult;
      switch (kind) {
        case "exit0":
          r = await ctr(["run", "--rm", IMAGE, id, "true"]);
          assert.equal(r.status, 0, `${id}: ${r.stderr}`);
          break;
        case "exit1":
          r = await ctr(["run", "--rm", IMAGE, id, "sh", "-c", "exit 1"]);
          assert.equal(r.status, 1, `${id}: ${r.stderr}`);
          break;
        case "crash":
          // Leaves an orphan behind (killed with the container's pid namespace) and dies with a crash's status.
          r = await ctr(["run", "--rm", IMAGE, id, "sh", "-c", "sleep 30 & echo oops >&2; exit 139"]);
          assert.equal(r.status, 139, `${id}: ${r.stderr}`);
          break;
        case "killed": {
          r = await ctr(["run", "-d", IMAGE, id, "sleep", "600"]);
          assert.equal(r.status, 0, `${id}: ${r.stderr}`);
          // The shim's socket (a spare's random one, or one named after the task).
          const address = readFileSync(join(d.state, "io.containerd.runtime.v2.task", NS, id, "address"), "utf8");
          sockets.push(address.replace(/^unix:\/\//, ""));
          const k = await ctr(["task", "kill", "-s", "SIGKILL", id]);
          assert.equal(k.status, 0, `kill ${id}: ${k.stderr}`);
          for (let t = 0; t < 100; t++) {
            r = await ctr(["task", "delete", id]);
            if (r.status === 0) break;
            await sleep(50);
          }
          assert.equal(r.status, 0, `${id}: ${r.stderr}`);
          assert.equal((await ctr(["containers", "rm", id])).status, 0);
          break;
        }
        case "nostart":
          r = await ctr(["run", "--rm", IMAGE, id, "/no/such/binary"]);
          assert.notEqual(r.status, 0);
          // ctr leaves the container record when the task fails to start; remove it as a user would.
          await ctr(["containers", "rm", id]);
          break;
      }
      outcomes.set(kind, (outcomes.get(kind) ?? 0) + 1);
    };
    let next = 0;
    await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        while (next < TOTAL) await one(next++);
      }),
    );
    assert.equal(
      [...outcomes.values()].reduce((a, b) => a + b, 0),
      TOTAL,
    );

    assert.equal((await ctr(["task", "ls", "-q"])).stdout, "");
    assert.equal((await ctr(["containers", "ls", "-q"])).stdout, "");
    // Mounts: nothing under the daemon's dirs but what the snapshotter itself keeps (none).
    const mounts = readFileSync("/proc/self/mountinfo", "utf8")
      .split("\n")
      .filter((l) => l.includes(d.dir));
    assert.deepEqual(mounts, []);
    // Shim processes serving this daemon (its one spare has no task), and their sockets.
    assert.deepEqual(shimPids(d.address, d.state), []);
    for (let i = 0; i < TOTAL; i++) {
      assert.ok(!existsSync(socketPathFor(d.address, NS, `leak-${i}`)), `socket of leak-${i}`);
    }
    assert.ok(sockets.length > 0);
    assert.deepEqual(
      sockets.filter((s) => existsSync(s)),
      [],
      "the shims' sockets are gone",
    );
    // Keepers: no process and no socket of any task's keeper.
    const tasks = join(d.state, "io.containerd.runtime.v2.task");
    for (let i = 0; i < TOTAL; i++) {
      const bundle = join(tasks, NS, `leak-${i}`);
      assert.ok(!existsSync(keeperSocketPath(bundle)), `keeper socket of leak-${i}`);
    }
    assert.deepEqual(keepersUnder(tasks), [], "keepers left");
    // Bundles and the runtime's state.
    assert.deepEqual(existsSync(tasks) ? readdirSync(tasks) : [], []);
    const runc = join(d.state, "runc", NS);
    assert.deepEqual(existsSync(runc) ? readdirSync(runc) : [], []);
    // cgroups: ctr puts a task in /<namespace>/<id> of every hierarchy.
    for (const hierarchy of readdirSync("/sys/fs/cgroup")) {
      const dir = join("/sys/fs/cgroup", hierarchy, NS);
      if (!existsSync(dir)) continue;
      const left = readdirSync(dir).filter((e) => e.startsWith("leak-"));
      assert.deepEqual(left, [], `cgroups left in ${dir}`);
    }
    // Snapshots: ctr removed each container's snapshot with it; only the image's layer remains.
    const snaps = (await ctr(["snapshots", "ls"])).stdout.split("\n").filter((l) => /leak-/.test(l));
    assert.deepEqual(snaps, []);
  });
});
