// A berth-shim that keeps dying is not restarted in a tight loop: berth-containerd starts it
// again at once the first time, waits longer before each further restart within a minute, and
// after five restarts within that minute gives up and cleans the task up as a dead shim's (the
// container killed, its exit and delete published), leaving nothing behind.
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { REVIVAL_FIRST_DELAY_MS, REVIVAL_LIMIT } from "../../src/containerd/runtime/revival-policy.ts";
import { type BerthContainerd, CTR } from "../helpers/berth-containerd.ts";
import { assertCleanAfterStop, assertNoLeftovers, startForContainers } from "../helpers/fault-loop.ts";
import { shimsOf } from "../helpers/invariants.ts";

const NS = "crashloop";
const IMAGE = "docker.io/berth/crashloop-busybox:latest";
const skip = process.getuid?.() !== 0 ? "needs root" : !existsSync(CTR) ? "ctr not installed" : undefined;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe("a shim that keeps dying", { skip }, () => {
  let d: BerthContainerd & { cleanup(): Promise<void> };
  const sockets = new Set<string>();
  before(async () => {
    ({ d } = await startForContainers({ image: IMAGE, importInto: NS }));
  });
  after(async () => {
    await d?.cleanup();
  });

  const ctr = (args: string[]) => d.ctrAsync(args, { namespace: NS });

  /** The shim listening on the task's socket, waiting up to `ms` for one to appear. */
  async function shimOn(socket: string, ms: number): Promise<number | undefined> {
    for (const end = Date.now() + ms; ; await sleep(20)) {
      const shim = shimsOf(d.address).find((p) => p.socket === socket);
      if (shim) return shim.pid;
      if (Date.now() > end) return undefined;
    }
  }

  test("calls that come while a shim is being started again are served by the new one", {
    timeout: 60_000,
  }, async () => {
    const run = await ctr(["run", "-d", IMAGE, "during", "sleep", "3600"]);
    assert.equal(run.status, 0, run.stderr);
    const bundle = join(d.state, "io.containerd.runtime.v2.task", NS, "during");
    const socket = readFileSync(join(bundle, "address"), "utf8").replace(/^unix:\/\//, "");
    sockets.add(socket);
    const init = Number(readFileSync(join(bundle, "init.pid"), "utf8"));
    const shim = await shimOn(socket, 5000);
    assert.ok(shim);
    process.kill(shim, "SIGKILL");
    // At once, without waiting for the new shim: each call waits out the restart.
    const [ps, ls] = await Promise.all([ctr(["task", "ps", "during"]), ctr(["task", "ls"])]);
    assert.equal(ps.status, 0, `task ps during the restart: ${ps.stderr}`);
    assert.match(ps.stdout, new RegExp(`^${init}\\s`, "m"));
    assert.match(ls.stdout, new RegExp(`^during\\s+${init}\\s+RUNNING`, "m"), `task ls: ${ls.stdout}${ls.stderr}`);
    const kill = await ctr(["task", "kill", "-s", "SIGKILL", "during"]);
    assert.equal(kill.status, 0, kill.stderr);
    for (const end = Date.now() + 10_000; Date.now() < end && existsSync(`/proc/${init}`); ) await sleep(50);
    const del = await ctr(["task", "delete", "during"]);
    assert.equal(del.status, 0, del.stderr);
    assert.equal((await ctr(["containers", "rm", "during"])).status, 0);
  });

  test("a task whose record still says created (its shim died right after the start) is adopted as running", {
    timeout: 60_000,
  }, async () => {
    const run = await ctr(["run", "-d", IMAGE, "late", "sleep", "3600"]);
    assert.equal(run.status, 0, run.stderr);
    const bundle = join(d.state, "io.containerd.runtime.v2.task", NS, "late");
    const socket = readFileSync(join(bundle, "address"), "utf8").replace(/^unix:\/\//, "");
    sockets.add(socket);
    const shim = await shimOn(socket, 5000);
    assert.ok(shim);
    // The shim is stopped, its record set back to what it held before Start's write, then killed.
    process.kill(shim, "SIGSTOP");
    const recordPath = join(bundle, "task.json");
    const record = JSON.parse(readFileSync(recordPath, "utf8")) as { init: { state: string } };
    assert.equal(record.init.state, "running");
    record.init.state = "created";
    writeFileSync(recordPath, JSON.stringify(record), { mode: 0o600 });
    process.kill(shim, "SIGKILL");
    const ls = await ctr(["task", "ls"]);
    assert.match(ls.stdout, /^late\s+\d+\s+RUNNING/m, `task ls: ${ls.stdout}${ls.stderr}`);
    assert.equal((JSON.parse(readFileSync(recordPath, "utf8")) as { init: { state: string } }).init.state, "running");
    assert.equal((await ctr(["task", "kill", "-s", "SIGKILL", "late"])).status, 0);
    for (let i = 0; i < 100 && !/^late\s+\d+\s+STOPPED/m.test((await ctr(["task", "ls"])).stdout); i++) await sleep(50);
    const del = await ctr(["task", "delete", "late"]);
    assert.equal(del.status, 0, del.stderr);
    assert.equal((await ctr(["containers", "rm", "late"])).status, 0);
  });

  test("is restarted with growing waits, then given up on: its task is cleaned up", { timeout: 120_000 }, async () => {
    const run = await ctr(["run", "-d", IMAGE, "loop", "sleep", "3600"]);
    assert.equal(run.status, 0, run.stderr);
    const bundle = join(d.state, "io.containerd.runtime.v2.task", NS, "loop");
    const socket = readFileSync(join(bundle, "address"), "utf8").replace(/^unix:\/\//, "");
    sockets.add(socket);
    const init = Number(readFileSync(join(bundle, "init.pid"), "utf8"));
    const waits: number[] = [];
    let shim = await shimOn(socket, 5000);
    for (let i = 0; i < REVIVAL_LIMIT; i++) {
      assert.ok(shim, `restart ${i}: a shim serves the task`);
      const killedAt = Date.now();
      process.kill(shim, "SIGKILL");
      let next: number | undefined;
      for (const end = Date.now() + 20_000; Date.now() < end; await sleep(20)) {
        next = await shimOn(socket, 0);
        if (next !== undefined && next !== shim) break;
      }
      assert.ok(next !== undefined && next !== shim, `restart ${i}: a new shim came up`);
      waits.push(Date.now() - killedAt);
      shim = next;
      // The task runs on under the new shim (once the daemon has connected to it again).
      let ls = await ctr(["task", "ls"]);
      for (const end = Date.now() + 10_000; Date.now() < end && !/^loop\s/m.test(ls.stdout); await sleep(50)) {
        ls = await ctr(["task", "ls"]);
      }
      assert.match(ls.stdout, new RegExp(`^loop\\s+${init}\\s+RUNNING`, "m"), `restart ${i}: ${ls.stdout}${ls.stderr}`);
    }
    // The later restarts waited: the fourth at least 4 x the first delay (250, 500, 1000 ms...).
    assert.ok(waits[REVIVAL_LIMIT - 1]! >= 4 * REVIVAL_FIRST_DELAY_MS, `restart waits grow: ${waits.join(", ")} ms`);
    assert.ok(waits[0]! < waits[REVIVAL_LIMIT - 1]!, `restart waits grow: ${waits.join(", ")} ms`);

    // One death more within the minute: no new shim; the task is cleaned up and its container killed.
    process.kill(shim!, "SIGKILL");
    let tasks = "";
    for (const end = Date.now() + 20_000; Date.now() < end; await sleep(100)) {
      tasks = (await ctr(["task", "ls", "-q"])).stdout;
      if (!tasks.split("\n").includes("loop")) break;
    }
    assert.ok(!tasks.split("\n").includes("loop"), `the task is gone: ${tasks}`);
    assert.equal(await shimOn(socket, 1000), undefined, "no shim was started again");
    assert.equal(existsSync(`/proc/${init}`), false, "the container was killed");
    assert.match(readFileSync(d.logPath, "utf8"), /not started again/);

    const rm = await ctr(["containers", "rm", "loop"]);
    assert.equal(rm.status, 0, rm.stderr);
    await assertNoLeftovers(d, { namespace: NS, ids: ["loop"], sockets }, "after giving up on the shim");
    await assertCleanAfterStop(d, { namespace: NS, ids: ["loop"], sockets });
  });
});
