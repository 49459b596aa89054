// Hole: a mount's propagation option ("shared", "slave", ...) was applied to `${rootfs}${destination}`
// as a host path, so a symlink in the image at the destination sent it to whatever the link named on
// the host: an image with /vol -> /some/host/dir changed the propagation of the host directory's
// mount (in the container's mount namespace, before pivot_root, and in any namespace joined by
// path), and the container's own mount at /vol did not get the option. The path must be resolved
// inside the rootfs like every other mount target.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { makeBundle, makeTempDir } from "../fixtures/busybox.ts";
import { Runtime, uniqueId } from "../helpers/runtime.ts";
import { SUBJECT_BIN } from "../integration/conformance/harness.ts";

let rt: Runtime;
before(async () => {
  rt = await Runtime.create(SUBJECT_BIN, "propagation");
});
after(async () => {
  await rt.destroy();
});

/** The optional fields ("shared:N", "master:N") of the mount at `mountPoint`, or undefined. */
function propagationOf(mountinfo: string, mountPoint: string): string | undefined {
  const lines = mountinfo.split("\n").filter((l) => l.split(" ")[4] === mountPoint);
  const last = lines.at(-1);
  if (!last) return undefined;
  const fields = last.split(" ");
  const dash = fields.indexOf("-");
  return fields.slice(6, dash).join(" ") || "private";
}

/**
 * Runs a container whose image has /vol -> `hostDir` and a bind mount at /vol with option "shared".
 * Returns the container's view of /vol's propagation and, from a createRuntime hook (which runs on
 * the host while the init waits, after its mounts and before pivot_root), the propagation of the
 * host directory's mount as the init's mount namespace has it.
 */
async function runWithSymlinkedVolume(hostDir: string) {
  const source = await makeTempDir("berth-prop-src-");
  writeFileSync(join(source, "marker"), "volume content\n");
  const scratch = await makeTempDir("berth-prop-out-");
  const seen = join(scratch, "init-mountinfo");
  const b = await makeBundle({
    // Inside, /vol still links to hostDir: the volume's mount point there is hostDir.
    args: ["sh", "-c", `cat /vol/marker; cat /proc/self/mountinfo`],
    rootfs: (root) => {
      rmSync(join(root, "vol"), { force: true, recursive: true });
      symlinkSync(hostDir, join(root, "vol"));
    },
    spec: (s) => {
      s.mounts!.push({ destination: "/vol", type: "bind", source, options: ["rbind", "shared"] });
      s.hooks = {
        createRuntime: [
          {
            path: "/bin/sh",
            args: ["sh", "-c", `pid=$(sed -n 's/.*"pid":\\([0-9]*\\).*/\\1/p'); cat /proc/$pid/mountinfo > ${seen}`],
            env: ["PATH=/usr/bin:/bin"],
          },
        ],
      };
    },
  });
  try {
    const r = await rt.run(uniqueId("prop"), b.dir);
    const initView = (() => {
      try {
        return readFileSync(seen, "utf8");
      } catch {
        return "";
      }
    })();
    return { r, initView, insideVol: propagationOf(r.stdout.split("\n").slice(1).join("\n"), hostDir) };
  } finally {
    await b.cleanup();
    rmSync(scratch, { recursive: true, force: true });
    rmSync(source, { recursive: true, force: true });
  }
}

test("a symlink at a mount's destination cannot redirect its propagation to a host mount", async (t) => {
  const hostDir = await makeTempDir("berth-prop-host-");
  // A private mount of the host's: the image's /vol names it.
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "berth-prop", hostDir]);
  t.after(() => execFileSync("umount", ["-l", hostDir]));
  execFileSync("mount", ["--make-private", hostDir]);
  const hostBefore = propagationOf(readFileSync("/proc/self/mountinfo", "utf8"), hostDir);
  assert.equal(hostBefore, "private");

  const { r, initView, insideVol } = await runWithSymlinkedVolume(hostDir);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.split("\n")[0], "volume content");
  // The host directory's mount, as the container's mount namespace had it before pivot_root:
  // before the fix it had become "shared:N".
  assert.ok(initView.length > 0, "the createRuntime hook saw the init's mounts");
  assert.equal(propagationOf(initView, hostDir), "private", "the host directory's mount was changed");
  // The option reached the container's own /vol (before the fix it stayed private).
  assert.match(insideVol ?? "", /shared:\d+/, `/vol in the container: ${insideVol}`);
  // And the host's own view is untouched.
  assert.equal(propagationOf(readFileSync("/proc/self/mountinfo", "utf8"), hostDir), hostBefore);
});

test("a symlink at a mount's destination to a host directory that is no mount point does not fail the run", async () => {
  // Before the fix: "set propagation of <rootfs>/vol: Invalid argument" (the host directory is not
  // a mount point), while the mount itself had landed inside the rootfs.
  const hostDir = await makeTempDir("berth-prop-plain-");
  mkdirSync(join(hostDir, "sub"));
  const { r, insideVol } = await runWithSymlinkedVolume(hostDir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(insideVol ?? "", /shared:\d+/, `/vol in the container: ${insideVol}`);
});
