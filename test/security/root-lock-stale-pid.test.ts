// Hole: berth-containerd refused to start when --root's pid file named a pid that kill(pid, 0)
// still answered for. Right after kill -9 that is the dead daemon itself, a zombie until its
// parent reaps it (a supervisor that reaps late, a shell that never does), and later any process
// that reused the pid: the restart failed with "root ... is in use by berth-containerd pid N"
// although nothing held the root. (The check was also a race: two daemons starting together could
// both pass it.) The root is now held by a kernel lock (flock on --root), which a process drops
// the moment it dies, whatever its parent does.
// Host-side check: a daemon killed with SIGKILL and left a zombie, and a pid file naming a live
// unrelated process, do not keep a new daemon from starting; a live daemon still does.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { BERTH_CONTAINERD, type BerthContainerd, CTR, startBerthContainerd } from "../helpers/berth-containerd.ts";

const skip = process.getuid?.() !== 0 ? "root only" : existsSync(CTR) ? undefined : "needs ctr";
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A process's state letter from /proc/PID/stat ("" once it is gone). */
function procState(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0] ?? "";
  } catch {
    return "";
  }
}

describe("the root lock: a dead daemon never holds --root", { skip }, () => {
  let d: BerthContainerd & { cleanup(): Promise<void> };
  const parents: number[] = [];

  before(async () => {
    d = await startBerthContainerd();
    await d.stop();
  });

  after(async () => {
    for (const p of parents) {
      try {
        process.kill(p, "SIGKILL");
      } catch {}
    }
    await d?.cleanup();
  });

  /**
   * The daemon on d's dirs under a parent that never reaps it (a shell that execs sleep): killed
   * with SIGKILL, it stays a zombie. Resolves its pid once it serves.
   */
  async function startUnreaped(): Promise<number> {
    const log = openSync(d.logPath, "a");
    const args = ["--root", d.root, "--state", d.state, "--address", d.address].map((a) => `'${a}'`).join(" ");
    const parent = spawn("sh", ["-c", `'${BERTH_CONTAINERD}' ${args} >&2 & echo $!; exec sleep 600`], {
      stdio: ["ignore", "pipe", log],
    });
    parents.push(parent.pid!);
    const pid = await new Promise<number>((resolve) =>
      parent.stdout!.once("data", (b: Buffer) => resolve(Number(b.toString().trim()))),
    );
    for (let i = 0; i < 300; i++) {
      if (existsSync(d.address) && d.ctr(["version"]).status === 0) return pid;
      await sleep(50);
    }
    throw new Error(`daemon ${pid} did not come up: ${await d.log()}`);
  }

  test("restart right after kill -9, the dead daemon still a zombie", { timeout: 60_000 }, async () => {
    const pid = await startUnreaped();
    assert.equal(readFileSync(join(d.root, "berth-containerd.pid"), "utf8"), String(pid));
    process.kill(pid, "SIGKILL");
    for (let i = 0; i < 100 && procState(pid) !== "Z"; i++) await sleep(20);
    assert.equal(procState(pid), "Z", "the killed daemon is a zombie");
    await d.start();
    assert.equal(d.ctr(["version"]).status, 0);
    await d.stop();
  });

  test("a pid file naming a live process that is not the daemon (a reused pid)", { timeout: 60_000 }, async () => {
    const other = spawn("sleep", ["600"], { stdio: "ignore" });
    try {
      writeFileSync(join(d.root, "berth-containerd.pid"), String(other.pid));
      await d.start();
      assert.equal(d.ctr(["version"]).status, 0);
      await d.stop();
    } finally {
      other.kill("SIGKILL");
    }
  });

  test("a live daemon still holds the root: a second one is refused", { timeout: 60_000 }, async () => {
    await d.start();
    try {
      const second = spawn(BERTH_CONTAINERD, ["--root", d.root, "--state", d.state, "--address", `${d.address}.2`], {
        stdio: ["ignore", "ignore", "pipe"],
      });
      let err = "";
      second.stderr.on("data", (b: Buffer) => {
        err += b.toString();
      });
      const code = await new Promise<number | null>((r) => second.once("exit", (c) => r(c)));
      assert.notEqual(code, 0);
      assert.match(err, /in use by berth-containerd/);
      assert.equal(d.ctr(["version"]).status, 0, "the first daemon still serves");
    } finally {
      await d.stop();
    }
  });
});
