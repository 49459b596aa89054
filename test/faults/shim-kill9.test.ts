// kill -9 of the namespace's berth-shim while 20 containers run, alone and together with
// berth-containerd. The keepers, not the shim, are the containers' parents and hold their output,
// so: every container keeps running, each one's counter (written every 100 ms to a log the keeper
// holds, `ctr run --log-uri file://`) has no gap, three containers that exit while no shim is
// there are reported with their own exit codes once a new shim has adopted the tasks (ctr task
// ls, /tasks/exit events, the status ctr task delete gives), and exec, kill and delete work on
// every task afterwards. Nothing is left behind: mounts, cgroups, processes, keepers, sockets,
// bundles, runtime state.
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type BerthContainerd, CTR, type CtrResult, retryUntil } from "../helpers/berth-containerd.ts";
import { COUNTER_SCRIPT, readCounter } from "../helpers/counter-log.ts";
import { type CtrEvents, removeProbes, subscribedCtrEvents } from "../helpers/ctr-events.ts";
import { assertCleanAfterStop, assertNoLeftovers, restart, startForContainers } from "../helpers/fault-loop.ts";
import { shimsOf } from "../helpers/invariants.ts";

const NS = "shimkill";
const IMAGE = "docker.io/berth/shimkill-busybox:latest";
const COUNT = 20;
const skip = process.getuid?.() !== 0 ? "needs root" : !existsSync(CTR) ? "ctr not installed" : undefined;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const ok = (r: CtrResult, what: string) => {
  assert.equal(r.status, 0, `${what}: ${r.stderr}${r.stdout}`);
  return r.stdout;
};

/** The numbers a counter's log holds, and any line that is not the next number. */
const counter = (path: string) => readCounter(readFileSync(path, "utf8"));

describe("kill -9 of the namespace's shim while 20 containers run", { skip }, () => {
  let d: BerthContainerd & { cleanup(): Promise<void> };
  const used = new Set<string>();
  const sockets = new Set<string>();
  before(async () => {
    ({ d } = await startForContainers({ image: IMAGE, importInto: NS }));
  });
  after(async () => {
    await d?.cleanup();
  });

  const bundleOf = (id: string) => join(d.state, "io.containerd.runtime.v2.task", NS, id);
  const logOf = (id: string) => join(d.dir, "logs", `${id}.log`);
  const ctr = (args: string[]) => d.ctrAsync(args, { namespace: NS });

  /** Runs the counters; returns each task's pid. */
  async function runCounters(ids: string[]): Promise<Map<string, number>> {
    for (const id of ids) {
      used.add(id);
      ok(
        await ctr(["run", "-d", "--log-uri", `file://${logOf(id)}`, IMAGE, id, "sh", "-c", COUNTER_SCRIPT]),
        `run ${id}`,
      );
    }
    const ls = ok(await ctr(["task", "ls"]), "task ls");
    const pids = new Map<string, number>();
    for (const id of ids) {
      const m = new RegExp(`^${id}\\s+(\\d+)\\s+RUNNING`, "m").exec(ls);
      assert.ok(m, `${id} running:\n${ls}`);
      pids.set(id, Number(m[1]));
    }
    return pids;
  }

  /** The one shim serving all of `ids` (their bundles name one socket). */
  function theShim(ids: string[]): number {
    const addresses = new Set(ids.map((id) => readFileSync(join(bundleOf(id), "address"), "utf8")));
    assert.equal(addresses.size, 1, `one shim serves the namespace: ${[...addresses].join(", ")}`);
    const socket = [...addresses][0]!.replace(/^unix:\/\//, "");
    sockets.add(socket);
    const shim = shimsOf(d.address).find((p) => p.socket === socket);
    assert.ok(shim, `a shim listens on ${socket}`);
    return shim.pid;
  }

  /**
   * While no shim serves them: three containers are told to exit with codes of their own (they
   * are gone before a shim is back), and every other keeps counting.
   */
  async function duringTheOutage(ids: string[], pids: Map<string, number>, exiting: Map<string, number>) {
    const before = new Map(ids.map((id) => [id, counter(logOf(id)).last]));
    for (const [id, code] of exiting) writeFileSync(`/proc/${pids.get(id)}/root/tmp/stop`, String(code));
    for (const [id] of exiting) {
      for (let i = 0; i < 100 && !existsSync(join(bundleOf(id), "init.exit")); i++) await sleep(50);
      assert.ok(existsSync(join(bundleOf(id), "init.exit")), `${id} exited and its keeper recorded it`);
    }
    const counting = (id: string) => counter(logOf(id)).last > before.get(id)! + 5;
    for (let waited = 0; waited < 15_000 && !ids.every((id) => exiting.has(id) || counting(id)); waited += 250)
      await sleep(250);
    for (const id of ids) if (!exiting.has(id)) assert.ok(counting(id), `${id} kept counting with no shim`);
  }

  /** Once a shim is back: what ctr and the events say, then exec, kill and delete of every task. */
  async function afterwards(
    ids: string[],
    pids: Map<string, number>,
    exiting: Map<string, number>,
    events: CtrEvents | undefined,
  ) {
    const ls = await retryUntil(
      () => ctr(["task", "ls"]),
      (r) => ids.every((id) => new RegExp(`^${id}\\s`, "m").test(r.stdout)),
    );
    for (const id of ids) {
      const state = exiting.has(id) ? "STOPPED" : "RUNNING";
      assert.match(ls.stdout, new RegExp(`^${id}\\s+${pids.get(id)}\\s+${state}`, "m"), `${id}:\n${ls.stdout}`);
    }
    if (events) {
      for (const [id, code] of exiting) {
        const exit = new RegExp(`/tasks/exit .*"container_id":"${id}".*"exit_status":${code}\\b`);
        for (let i = 0; i < 100 && !exit.test(events.output()); i++) await sleep(50);
        assert.match(events.output(), exit, `/tasks/exit of ${id} with ${code}`);
      }
    }
    const survivor = ids.find((id) => !exiting.has(id))!;
    assert.equal(ok(await ctr(["task", "exec", "--exec-id", "after", survivor, "echo", "hi"]), "exec"), "hi\n");
    // Exits that happened while no shim was there, with their codes (ctr warns of non-zero ones).
    for (const [id, code] of exiting) {
      const del = await ctr(["task", "delete", id]);
      ok(del, `delete ${id}`);
      assert.match(del.stderr, new RegExp(`task ${id} exit with non-zero exit code ${code}\\b`));
      ok(await ctr(["containers", "rm", id]), `rm ${id}`);
    }
    await sleep(500);
    for (const id of ids) assert.deepEqual(counter(logOf(id)).gaps, [], `${id}'s counter has no gap`);
    const survivors = ids.filter((i) => !exiting.has(i));
    for (const id of survivors) ok(await ctr(["task", "kill", "-s", "SIGKILL", id]), `kill ${id}`);
    for (const id of survivors) {
      const r = await retryUntil(
        () => ctr(["task", "delete", id]),
        (x) => x.status === 0,
      );
      ok(r, `delete ${id}`);
      assert.match(r.stderr, /exit code 137/);
      ok(await ctr(["containers", "rm", id]), `rm ${id}`);
    }
    assert.equal(ok(await ctr(["task", "ls", "-q"]), "ls"), "");
  }

  test("the shim alone: its tasks run on, and a new shim reports what happened", { timeout: 300_000 }, async () => {
    const ids = Array.from({ length: COUNT }, (_, i) => `a${i}`);
    const exiting = new Map([
      ["a3", 3],
      ["a7", 7],
      ["a11", 11],
    ]);
    const pids = await runCounters(ids);
    const shim = theShim(ids);
    await sleep(500);
    const events = await subscribedCtrEvents(d);
    try {
      // The daemon is stopped meanwhile, so no new shim comes before the three have exited.
      assert.ok(d.pid);
      process.kill(d.pid, "SIGSTOP");
      try {
        process.kill(shim, "SIGKILL");
        await duringTheOutage(ids, pids, exiting);
      } finally {
        process.kill(d.pid, "SIGCONT");
      }
      await afterwards(ids, pids, exiting, events);
    } finally {
      events.child.kill();
    }
    await removeProbes(d, events);
    await assertNoLeftovers(d, { namespace: NS, ids: used, sockets }, "after the shim's kill -9");
  });

  test("the shim and berth-containerd together: the restarted daemon starts a new shim", {
    timeout: 300_000,
  }, async () => {
    const ids = Array.from({ length: COUNT }, (_, i) => `b${i}`);
    const exiting = new Map([
      ["b2", 2],
      ["b9", 9],
      ["b14", 14],
    ]);
    const pids = await runCounters(ids);
    const shim = theShim(ids);
    await sleep(500);
    await d.kill9();
    process.kill(shim, "SIGKILL");
    await duringTheOutage(ids, pids, exiting);
    await restart(d, "after kill -9 of the shim and the daemon");
    await afterwards(ids, pids, exiting, undefined);
    await assertNoLeftovers(d, { namespace: NS, ids: used, sockets }, "after the kill -9 of both");
    await assertCleanAfterStop(d, { namespace: NS, ids: used, sockets });
  });
});
