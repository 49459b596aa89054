// kill -9 of berth-containerd while 20 containers run. The shims, not the daemon, are the
// containers' parents and hold their output, so: every container keeps running, each one's
// counter (written every 100 ms to a log the shim opened itself, `ctr run --log-uri file://`)
// has no gap across the daemon's absence, three containers that exit while the daemon is down
// are reported with their own exit codes once it is back, and the restarted daemon lists, kills
// and deletes them all.
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  type BerthContainerd,
  BUSYBOX_IMAGE,
  type CtrResult,
  retryUntil,
  startWithBusybox,
} from "../helpers/berth-containerd.ts";
import { COUNTER_SCRIPT, readCounter } from "../helpers/counter-log.ts";

const IMAGE = BUSYBOX_IMAGE;
const COUNT = 20;
const EXIT_WHILE_DOWN = new Map([
  ["c3", 3],
  ["c7", 7],
  ["c11", 11],
]);
const skip = process.getuid?.() !== 0 ? "interop tests run as root" : existsSync("/usr/bin/ctr") ? undefined : "no ctr";
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

type Daemon = BerthContainerd & { cleanup(): Promise<void> };

const ok = (r: CtrResult, what: string) => {
  assert.equal(r.status, 0, `${what}: ${r.stderr}${r.stdout}`);
  return r.stdout;
};

/** The numbers a counter's log holds, and any line that is not the next number. */
const counter = (path: string) => readCounter(readFileSync(path, "utf8"));

describe("kill -9 of berth-containerd while 20 containers run", { skip }, () => {
  let d: Daemon;
  const ids = Array.from({ length: COUNT }, (_, i) => `c${i}`);
  const logOf = (id: string) => join(d.dir, "logs", `${id}.log`);
  const pids = new Map<string, number>();

  before(async () => {
    d = await startWithBusybox();
  });

  after(async () => {
    await d?.cleanup();
  });

  test("containers, their output and their exits survive the daemon", { timeout: 240_000 }, async () => {
    for (const id of ids) {
      ok(
        await d.ctrAsync(["run", "-d", "--log-uri", `file://${logOf(id)}`, IMAGE, id, "sh", "-c", COUNTER_SCRIPT]),
        `run ${id}`,
      );
    }
    const ls = ok(await d.ctrAsync(["task", "ls"]), "task ls");
    for (const id of ids) {
      const m = new RegExp(`^${id}\\s+(\\d+)\\s+RUNNING`, "m").exec(ls);
      assert.ok(m, `${id} running:\n${ls}`);
      pids.set(id, Number(m[1]));
    }
    await sleep(500);

    await d.kill9();
    const before = new Map(ids.map((id) => [id, counter(logOf(id)).last]));
    // While the daemon is down: three containers are told to exit, with codes of their own.
    for (const [id, code] of EXIT_WHILE_DOWN) writeFileSync(`/proc/${pids.get(id)}/root/tmp/stop`, String(code));
    await sleep(1500);
    for (const id of ids) {
      const alive = existsSync(`/proc/${pids.get(id)}`);
      assert.equal(alive, !EXIT_WHILE_DOWN.has(id), `${id} alive while the daemon is down`);
    }
    // Each counts ~10 lines a second; on a loaded machine 20 shells may get little CPU, so give
    // them time rather than a fixed window (the point is that they go on at all).
    const counting = (id: string) => counter(logOf(id)).last > before.get(id)! + 5;
    for (let waited = 0; waited < 15_000 && !ids.every((id) => EXIT_WHILE_DOWN.has(id) || counting(id)); waited += 250)
      await sleep(250);
    for (const id of ids) {
      if (!EXIT_WHILE_DOWN.has(id)) assert.ok(counting(id), `${id} kept counting`);
    }

    await d.start();
    const after = ok(await d.ctrAsync(["task", "ls"]), "task ls after restart");
    for (const id of ids) {
      const state = EXIT_WHILE_DOWN.has(id) ? "STOPPED" : "RUNNING";
      assert.match(after, new RegExp(`^${id}\\s+${pids.get(id)}\\s+${state}`, "m"), `${id}:\n${after}`);
    }
    // Exits that happened while the daemon was down, with their codes (ctr warns of non-zero ones).
    for (const [id, code] of EXIT_WHILE_DOWN) {
      const del = await d.ctrAsync(["task", "delete", id]);
      ok(del, `delete ${id}`);
      assert.match(del.stderr, new RegExp(`task ${id} exit with non-zero exit code ${code}\\b`));
      ok(await d.ctrAsync(["containers", "rm", id]), `rm ${id}`);
    }
    await sleep(500);
    for (const id of ids) {
      const c = counter(logOf(id));
      assert.deepEqual(c.gaps, [], `${id}'s counter has no gap`);
    }
    // The survivors: kill, wait for the exit, delete.
    for (const id of ids.filter((i) => !EXIT_WHILE_DOWN.has(i))) {
      ok(await d.ctrAsync(["task", "kill", "-s", "SIGKILL", id]), `kill ${id}`);
    }
    for (const id of ids.filter((i) => !EXIT_WHILE_DOWN.has(i))) {
      const r = await retryUntil(
        () => d.ctrAsync(["task", "delete", id]),
        (x) => x.status === 0,
      );
      ok(r, `delete ${id}`);
      assert.match(r.stderr, /exit code 137/);
      ok(await d.ctrAsync(["containers", "rm", id]), `rm ${id}`);
    }
    assert.equal(ok(await d.ctrAsync(["task", "ls", "-q"]), "ls"), "");
  });
});
