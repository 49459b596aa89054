// berth-shim's addon (native/node/shimsys.c) passes JavaScript strings to mount(2), umount2(2),
// bind(2) (listenUnix) and posix_spawn (spawnKeeper).
// It must pass exactly the string it was given or refuse: a NUL inside used to cut the path there,
// and a string one character too long was cut at the last whole UTF-8 character that fit, so the
// call acted on a shorter path (here: a directory the caller never named).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { shimSys } from "../../src/common/sys.ts";
import { childrenOf } from "../../src/shim/reaper.ts";
import { makeTempDir } from "../fixtures/busybox.ts";

const execFileP = promisify(execFile);

/** Whether `dir` is a mount point in this process's mount namespace. */
function isMountPoint(dir: string): boolean {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .some((l) => l.split(" ")[4] === dir);
}

/** Unmounts whatever a failed run left on `dir` (the test runs in the host's mount namespace). */
async function unmountAll(dir: string): Promise<void> {
  while (isMountPoint(dir)) await execFileP("umount", ["-l", dir]);
}

test("a mount target with a NUL inside is refused, not mounted on the part before it", async (t) => {
  const dir = await makeTempDir("berth-shimsys-nul-");
  t.after(() => unmountAll(dir));
  assert.throws(() => shimSys().mount("tmpfs", `${dir}\0/elsewhere`, "tmpfs", 0, ""), /NUL/);
  assert.equal(isMountPoint(dir), false);
});

test("a mount target one character too long is refused, not cut to a shorter path", async (t) => {
  // A directory whose path is 4094 bytes: with one 3-byte character more, the string no longer
  // fits the addon's 4096-byte buffer, and the last whole character that fits ends at this path.
  const base = await makeTempDir("berth-shimsys-long-");
  let dir = base;
  while (dir.length < 4094 - 201) dir = join(dir, "d".repeat(200));
  dir = join(dir, "e".repeat(4094 - dir.length - 1));
  assert.equal(Buffer.byteLength(dir), 4094);
  // Unmounted before the tree goes (after-hooks run in the order they were added).
  t.after(async () => {
    await unmountAll(dir);
    await execFileP("rm", ["-rf", base]);
  });
  mkdirSync(dir, { recursive: true });
  assert.throws(() => shimSys().mount("tmpfs", `${dir}€`, "tmpfs", 0, ""), /too long/);
  assert.equal(isMountPoint(dir), false);
});

test("umount of a target with a NUL inside is refused and leaves the mount", async (t) => {
  const dir = await makeTempDir("berth-shimsys-umount-");
  shimSys().mount("tmpfs", dir, "tmpfs", 0, "size=1m");
  t.after(() => unmountAll(dir));
  assert.equal(isMountPoint(dir), true);
  assert.throws(() => shimSys().umount(`${dir}\0/other`, 0), /NUL/);
  assert.equal(isMountPoint(dir), true, "the mount the caller did not name is still there");
});

test("listenUnix binds exactly the path it was given: a NUL inside, one too long for sun_path, or none is refused", async (t) => {
  const dir = await makeTempDir("berth-shimsys-listen-");
  t.after(() => execFileP("rm", ["-rf", dir]));
  assert.throws(() => shimSys().listenUnix(`${dir}/s\0/elsewhere`), /NUL/);
  assert.equal(existsSync(join(dir, "s")), false, "nothing bound on the part before the NUL");
  // sun_path holds 108 bytes with its NUL: 107 fit, 108 are refused rather than cut.
  const fits = join(dir, "a".repeat(107 - dir.length - 1));
  const fd = shimSys().listenUnix(fits);
  closeSync(fd);
  assert.equal(statSync(fits).isSocket(), true);
  const tooLong = `${fits}b`;
  assert.throws(() => shimSys().listenUnix(tooLong), /too long/);
  assert.equal(existsSync(tooLong), false);
  assert.equal(existsSync(fits.slice(0, -1)), false, "not bound on a shorter path either");
  assert.throws(() => shimSys().listenUnix(""), /empty/);
  assert.throws(() => shimSys().listenUnix(fits), /EADDRINUSE|in use/, "an existing path is not replaced");
});

test("spawnKeeper refuses a path with a NUL inside, a bad fd, or a missing program, and starts nothing", async (t) => {
  const dir = await makeTempDir("berth-shimsys-spawn-");
  t.after(() => execFileP("rm", ["-rf", dir]));
  const d = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  t.after(() => closeSync(d));
  const before = childrenOf(process.pid).length;
  assert.throws(() => shimSys().spawnKeeper("/bin/true\0/elsewhere", d, d), /NUL/);
  assert.throws(() => shimSys().spawnKeeper("/bin/true", d, 987_654), /EBADF|Bad file/);
  assert.throws(() => shimSys().spawnKeeper(join(dir, "missing"), d, d), /ENOENT|No such file/);
  assert.equal(childrenOf(process.pid).length, before, "no child left behind (none started or one reaped)");
});
