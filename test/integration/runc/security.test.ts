// berth-runc's own defences against the known classes of runtime escapes. These are properties
// of berth-runc, not differences from runc, so they are tested directly rather than differentially.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { makeBundle, makeTempDir } from "../../fixtures/busybox.ts";
import { Runtime, uniqueId } from "../../helpers/runtime.ts";
import { SUBJECT_BIN } from "../conformance/harness.ts";

let rt: Runtime;
before(async () => {
  rt = await Runtime.create(SUBJECT_BIN, "security");
});
after(async () => {
  await rt.destroy();
});

test("no file descriptor of the runtime reaches the container (CVE-2024-21626 class)", async (t) => {
  const b = await makeBundle({ args: ["sh", "-c", "ls /proc/self/fd; readlink /proc/self/cwd"] });
  t.after(() => b.cleanup());
  const r = await rt.run(uniqueId("fds"), b.dir);
  assert.equal(r.code, 0, r.stderr);
  // ls itself opens the directory it lists: fd 3 is that, nothing else beyond stdio.
  assert.deepEqual(r.stdout.trim().split("\n"), ["0", "1", "2", "3", "/"]);
});

test("--preserve-fds hands on exactly the fds asked for", async (t) => {
  const b = await makeBundle({ args: ["sh", "-c", "cat <&3; ls /proc/self/fd | tr '\\n' ' '"] });
  t.after(() => b.cleanup());
  const scratch = await makeTempDir("berth-pfds-");
  const given = join(scratch, "given.txt");
  writeFileSync(given, "handed on\n");
  const out = join(scratch, "out.txt");
  const fds = [
    openSync("/dev/null", "r"),
    openSync(out, "w"),
    openSync(out, "a"),
    openSync(given, "r"),
    openSync(given, "r"),
  ];
  // fd 3 is preserved; fd 4 is open in the runtime too, and must not reach the container.
  const child = spawn(
    SUBJECT_BIN,
    ["--root", rt.root, "run", "--preserve-fds", "1", "--bundle", b.dir, uniqueId("pfds")],
    {
      stdio: fds,
    },
  );
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  for (const fd of fds) closeSync(fd);
  assert.equal(code, 0);
  // cat reads fd 3; ls opens one fd of its own (3 is still there, so that is 4).
  assert.equal(readFileSync(out, "utf8"), "handed on\n0 1 2 3 4 ");
});

test("between create and start the init runs from a sealed memfd, not the binary on disk (CVE-2019-5736 class)", async (t) => {
  const b = await makeBundle({ args: ["true"] });
  t.after(() => b.cleanup());
  const id = uniqueId("exe");
  const c = await rt.createContainer(id, b.dir);
  assert.equal(c.result.code, 0, c.result.stderr);
  const st = await rt.state(id);
  assert.ok(st?.pid);
  assert.match(readlinkSync(`/proc/${st.pid}/exe`), /^\/memfd:berth-nsexec/);
  // The sealed copy refuses writes even to root on the host.
  assert.throws(() => openSync(`/proc/${st.pid}/exe`, "r+"), /EPERM|ETXTBSY|EACCES/);
  await rt.delete(id, { force: true });
});

test("a symlink in the image cannot send a mount outside the rootfs", async (t) => {
  const outside = await makeTempDir("berth-escape-target-");
  const b = await makeBundle({
    args: ["sh", "-c", "ls /mnt/evil/marker && echo inside"],
    rootfs: (root) => {
      mkdirSync(join(root, "mnt"), { recursive: true });
      // Absolute symlink: resolved on the host it would point at `outside`.
      symlinkSync(outside, join(root, "mnt/evil"));
    },
    spec: (s) => {
      s.root!.readonly = false;
      s.mounts!.push({ destination: "/mnt/evil", type: "tmpfs", source: "tmpfs", options: ["size=1m"] });
      s.process!.args = ["sh", "-c", "touch /mnt/evil/marker && ls /mnt/evil"];
    },
  });
  t.after(() => b.cleanup());
  const r = await rt.run(uniqueId("escape"), b.dir);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), "marker");
  // The tmpfs landed inside the rootfs (at rootfs/<outside path>), not on the host directory.
  assert.deepEqual(await readdir(outside), []);
  const mounts = await readFile("/proc/self/mountinfo", "utf8");
  assert.ok(!mounts.includes(` ${outside} `), "no mount left on the host path");
});

test("a /dev/null that is not the null device is never used to mask a path", async (t) => {
  const devdir = await makeTempDir("berth-fake-dev-");
  const b = await makeBundle({
    args: ["true"],
    spec: (s) => {
      // The spec brings its own /dev, in which null is a symlink to a host-sensitive file.
      s.mounts = s.mounts!.filter((m) => !m.destination.startsWith("/dev"));
      s.mounts.push({ destination: "/dev", type: "bind", source: devdir, options: ["rbind"] });
      s.linux!.maskedPaths = ["/proc/keys"];
    },
  });
  t.after(() => b.cleanup());
  symlinkSync("/proc/sys/kernel/core_pattern", join(devdir, "null"));
  const id = uniqueId("devnull");
  const r = await rt.run(id, b.dir);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /not the null device|null/);
  assert.ok(lstatSync(join(devdir, "null")).isSymbolicLink());
  assert.deepEqual(await rt.ids(), []);
});

test("a bad config.json names the field and leaves no state, cgroup or mount behind", async (t) => {
  const b = await makeBundle({
    spec: (s) => {
      s.linux!.namespaces!.push({ type: "bogus" as never });
    },
  });
  t.after(() => b.cleanup());
  const id = uniqueId("badcfg");
  const r = await rt.run(id, b.dir);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /linux\.namespaces\[\d\]\.type/);
  assert.deepEqual(await rt.rootEntries(), []);
  assert.equal(existsSync(`/sys/fs/cgroup/memory/${id}`), false);
});

test("a failure inside the container setup rolls everything back", async (t) => {
  const b = await makeBundle({ args: ["/no/such/binary"] });
  t.after(() => b.cleanup());
  const id = uniqueId("rollback");
  const r = await rt.run(id, b.dir);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no\/such\/binary/);
  assert.deepEqual(await rt.rootEntries(), []);
  assert.equal(existsSync(`/sys/fs/cgroup/memory/${id}`), false);
  assert.equal(existsSync(`/sys/fs/cgroup/pids/${id}`), false);
});
