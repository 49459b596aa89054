// Hole: berth-containerd's --state reached through a symlink. When a shim dies, the daemon (and the
// shim's `delete` action) looked for the rootfs mount by the unresolved bundle path in
// /proc/self/mountinfo, which holds resolved paths: it found nothing, skipped the unmount and
// removed the bundle recursively, through the still-mounted rootfs. The container's files were
// deleted through the mount (whiteouts in its overlay upper; with the native snapshotter, the
// snapshot's own files), the mount point stayed busy, so the bundle stayed, and the task could
// not be started again ("already exists"). The attacker needs no privilege: any shim death (OOM
// kill, a crash) triggers it on a daemon configured this way.
// Host-side check: after the shim is killed with SIGKILL and the daemon cleans up, nothing is
// left mounted on the bundle, the bundle is gone, the container's snapshot still holds its files
// (busybox runs in it again) and the task starts again.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { keepersOf } from "../../src/shim/keeper.ts";
import { makeTempDir } from "../fixtures/busybox.ts";
import {
  type BerthContainerd,
  BUSYBOX_IMAGE,
  CTR,
  type CtrResult,
  retryUntil,
  shimPids,
  startWithBusybox,
} from "../helpers/berth-containerd.ts";
import { pollUntil } from "../helpers/peers.ts";

const skip = process.getuid?.() !== 0 ? "root only" : existsSync(CTR) ? undefined : "needs ctr";
const BERTH_RUNC = join(import.meta.dirname, "..", "..", "dist", "berth-runc.mjs");

const ok = (r: CtrResult, what: string) => {
  assert.equal(r.status, 0, `${what}: ${r.stderr}${r.stdout}`);
  return r.stdout;
};

/** Mount points at or below `dir` (resolved), from the kernel's table. */
function mountsUnder(dir: string): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((p) => p === dir || p.startsWith(`${dir}/`));
}

describe("--state through a symlink: a dead shim's clean-up never deletes through the rootfs", { skip }, () => {
  let d: BerthContainerd & { cleanup(): Promise<void> };
  let base: string;
  let real: string;
  let link: string;
  const id = `symlink-state-${process.pid}`;

  before(async () => {
    base = await makeTempDir("berth-state-link-");
    real = join(base, "real");
    link = join(base, "link");
    mkdirSync(real, { mode: 0o711 });
    symlinkSync(real, link);
    d = await startWithBusybox(["--state", link]);
  });

  after(async () => {
    await d?.cleanup();
    // What a failed run may have left in the symlinked state: the runtime's containers, mounts.
    const runcRoot = join(real, "runc");
    if (existsSync(runcRoot)) {
      for (const ns of readdirSync(runcRoot)) {
        for (const c of readdirSync(join(runcRoot, ns))) {
          spawnSync(BERTH_RUNC, ["--root", join(runcRoot, ns), "delete", "--force", c], { stdio: "ignore" });
        }
      }
    }
    for (const m of mountsUnder(real).reverse()) spawnSync("umount", ["-l", m]);
    if (base) await rm(base, { recursive: true, force: true });
  });

  test("kill -9 of the shim: the bundle is unmounted before it is removed", { timeout: 180_000 }, async () => {
    ok(await d.ctrAsync(["run", "-d", BUSYBOX_IMAGE, id, "sleep", "1000"]), "run");
    const bundle = join(real, "io.containerd.runtime.v2.task", "default", id);
    assert.deepEqual(mountsUnder(bundle), [join(bundle, "rootfs")], "the rootfs is mounted at the resolved path");

    const shims = shimPids(d.address, link);
    assert.equal(shims.length, 1, `one shim serves the task: ${shims.join(",")}`);
    // The task's keeper goes too: with it alive the daemon would start a new shim that adopts the
    // task (test/faults/shim-kill9), and the dead-shim clean-up this test is about would not run.
    const keepers = keepersOf(bundle);
    assert.equal(keepers.length, 1, "the task's keeper");
    for (const victim of [...keepers, shims[0]!]) process.kill(victim, "SIGKILL");
    // The daemon sees the shim's connection drop and cleans up (delete action, unmount, bundle).
    const gone = await pollUntil(async () => !existsSync(bundle), 30_000);
    if (!gone) assert.fail(`the bundle is left: ${readdirSync(bundle).join(",")}\n${(await d.log()).slice(-2000)}`);
    assert.deepEqual(mountsUnder(bundle), [], "nothing stays mounted on the bundle");

    // The container's files are intact: the task starts again and busybox runs in its rootfs.
    const tasks = ok(await d.ctrAsync(["task", "ls"]), "task ls");
    assert.doesNotMatch(tasks, new RegExp(`^${id}\\s`, "m"), "the dead task is gone");
    ok(await d.ctrAsync(["task", "start", "-d", id]), "task start again");
    const out = ok(
      await d.ctrAsync(["task", "exec", "--exec-id", "check", id, "sh", "-c", "ls /bin/busybox /etc/passwd"]),
      "exec in the restarted task",
    );
    assert.match(out, /\/bin\/busybox/);
    ok(await d.ctrAsync(["task", "kill", "-s", "SIGKILL", id]), "kill");
    ok(
      await retryUntil(
        () => d.ctrAsync(["task", "delete", id]),
        (r) => r.status === 0,
      ),
      "task delete",
    );
    ok(await d.ctrAsync(["containers", "rm", id]), "containers rm");
  });
});
