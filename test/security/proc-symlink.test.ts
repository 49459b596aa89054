// Hole: a rootfs whose /proc (or /sys) is a symlink was accepted: procfs was mounted wherever the
// link pointed inside the image, and every later /proc path the runtime uses (masked paths,
// sysctls, /proc/self/fd) went through a name the image chose. runc refuses it: `filesystem "proc"
// must be mounted on ordinary directory` (exit 1). So must berth-runc, leaving nothing behind.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { makeBundle } from "../fixtures/busybox.ts";
import { Runtime, uniqueId } from "../helpers/runtime.ts";
import { SUBJECT_BIN } from "../integration/conformance/harness.ts";

let rt: Runtime;
before(async () => {
  rt = await Runtime.create(SUBJECT_BIN, "proc-symlink");
});
after(async () => {
  await rt.destroy();
});

/** A rootfs whose `name` ("proc" or "sys") is a symlink to `target`; the run must be refused. */
async function assertRefused(name: string, target: string, fstype: string): Promise<void> {
  const b = await makeBundle({
    args: ["sh", "-c", "echo the container ran"],
    rootfs: (root) => {
      rmSync(join(root, name), { recursive: true, force: true });
      mkdirSync(join(root, "tmp/elsewhere"), { recursive: true });
      symlinkSync(target, join(root, name));
    },
  });
  try {
    const id = uniqueId(name);
    const r = await rt.run(id, b.dir, { timeoutMs: 20_000 });
    // Before the fix: exit 0, "the container ran", procfs mounted at the link's target.
    assert.equal(r.stdout, "", `the container ran: ${r.stdout}`);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`filesystem "${fstype}" must be mounted on ordinary directory`));
    assert.ok(r.stderr.includes(`/${name}`), r.stderr);
    assert.deepEqual(await rt.rootEntries(), []);
    assert.equal(existsSync(`/sys/fs/cgroup/pids/${id}`), false);
    // Nothing was made where the link points.
    assert.deepEqual(readdirSync(join(b.rootfs, "tmp/elsewhere")), []);
  } finally {
    await b.cleanup();
  }
}

test("a rootfs whose /proc is a symlink (relative, inside the image) is refused", async () => {
  await assertRefused("proc", "tmp/elsewhere", "proc");
});

test("a rootfs whose /proc is an absolute symlink is refused", async () => {
  await assertRefused("proc", "/tmp/elsewhere", "proc");
});

test("a rootfs whose /proc is a dangling symlink is refused, and its target is not created", async () => {
  await assertRefused("proc", "/tmp/elsewhere/proc", "proc");
});

test("a rootfs whose /sys is a symlink is refused", async () => {
  await assertRefused("sys", "/tmp/elsewhere", "sysfs");
});
