// Hole: HOME was looked up in the image's /etc/passwd with a plain read on the host, following
// symlinks out of the rootfs: a symlink to a host file leaked that file's home directory field into
// the container, a FIFO there hung `run`, and a running container that made its /etc/passwd a FIFO
// hung `exec` (in berth-shim, which runs exec in-process, that blocks its event loop). The file
// must be found inside the rootfs as the container would see it (symlinks resolved against the
// rootfs, never leaving it) and read only if it is a regular file of bounded size; otherwise HOME
// is "/", as runc's default.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { closeSync, mkdirSync, openSync, rmSync, symlinkSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { makeBundle, makeTempDir } from "../fixtures/busybox.ts";
import { Runtime, uniqueId } from "../helpers/runtime.ts";
import { SUBJECT_BIN } from "../integration/conformance/harness.ts";

const PROBE = ["sh", "-c", 'echo "HOME=$HOME"'];
// Bounded: a runtime that blocks on a FIFO is killed after this long, and the case fails.
const TIMEOUT_MS = 10_000;

let rt: Runtime;
let hostDir: string;
let marker: string;
before(async () => {
  rt = await Runtime.create(SUBJECT_BIN, "passwd");
  // A host file outside every rootfs, shaped like a passwd whose home field is a marker.
  hostDir = await makeTempDir("berth-host-passwd-");
  marker = `/HOST-SECRET-${process.pid}`;
  writeFileSync(join(hostDir, "passwd"), `root:x:0:0:root:${marker}:/bin/sh\n`);
});
after(async () => {
  await rt.destroy();
  rmSync(hostDir, { recursive: true, force: true });
});

/** Runs PROBE in a bundle whose rootfs `prepare` tampered with; returns what HOME was. */
async function homeWith(prepare: (rootfs: string) => void): Promise<string> {
  const b = await makeBundle({ args: PROBE, rootfs: prepare });
  try {
    const r = await rt.run(uniqueId("home"), b.dir, { timeoutMs: TIMEOUT_MS });
    assert.equal(r.timedOut, false, "the runtime hung on /etc/passwd");
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
  } finally {
    await b.cleanup();
  }
}

const replacePasswd = (rootfs: string, make: (path: string) => void) => {
  rmSync(join(rootfs, "etc/passwd"));
  make(join(rootfs, "etc/passwd"));
};

test("an absolute symlink to a host file does not leak it", async () => {
  const home = await homeWith((r) => replacePasswd(r, (p) => symlinkSync(join(hostDir, "passwd"), p)));
  assert.equal(home, "HOME=/");
});

test("a relative symlink climbing out of the rootfs does not leak a host file", async () => {
  const home = await homeWith((r) =>
    replacePasswd(r, (p) => symlinkSync(`../../../../../../../..${hostDir}/passwd`, p)),
  );
  assert.equal(home, "HOME=/");
});

test("an /etc that is a symlink to a host directory does not leak a host file", async () => {
  const home = await homeWith((r) => {
    rmSync(join(r, "etc"), { recursive: true });
    symlinkSync(hostDir, join(r, "etc"));
  });
  assert.equal(home, "HOME=/");
});

test("symlinks are resolved inside the rootfs, as the container sees them", async () => {
  const home = await homeWith((r) => {
    mkdirSync(join(r, "berth-in-root"));
    writeFileSync(join(r, "berth-in-root/passwd"), "root:x:0:0:root:/in-root-home:/bin/sh\n");
    // Absolute: on the host this names a path that does not exist; in the rootfs it is the file.
    replacePasswd(r, (p) => symlinkSync("/berth-in-root/passwd", p));
  });
  assert.equal(home, "HOME=/in-root-home");
});

test("a FIFO at /etc/passwd does not hang run", async () => {
  const home = await homeWith((r) => replacePasswd(r, (p) => execFileSync("mkfifo", [p])));
  assert.equal(home, "HOME=/");
});

test("a huge /etc/passwd is not read (HOME falls back to /)", async () => {
  const home = await homeWith((r) =>
    replacePasswd(r, (p) => {
      // Sparse: 64 MiB of zeros, then a matching line.
      const fd = openSync(p, "w");
      writeSync(fd, "\nroot:x:0:0:root:/HUGE-MARKER:/bin/sh\n", 64 * 1024 * 1024);
      closeSync(fd);
    }),
  );
  assert.equal(home, "HOME=/");
});

test("exec: a container that turns its /etc/passwd into a FIFO or a host symlink cannot hang or leak", async (t) => {
  const b = await makeBundle({ args: ["sleep", "30"] });
  t.after(() => b.cleanup());
  const id = uniqueId("home-exec");
  const c = await rt.createContainer(id, b.dir);
  assert.equal(c.result.code, 0, c.result.stderr);
  t.after(() => rt.delete(id, { force: true }));
  assert.equal((await rt.start(id)).code, 0);

  // The container's root is the bundle's rootfs: what the host does to it, the container could do.
  const passwd = join(b.rootfs, "etc/passwd");
  rmSync(passwd);
  execFileSync("mkfifo", [passwd]);
  let r = await rt.exec(["exec", id, ...PROBE], { timeoutMs: TIMEOUT_MS });
  assert.equal(r.timedOut, false, "exec hung on a FIFO /etc/passwd");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), "HOME=/");

  rmSync(passwd);
  symlinkSync(join(hostDir, "passwd"), passwd);
  r = await rt.exec(["exec", id, ...PROBE], { timeoutMs: TIMEOUT_MS });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), "HOME=/");
});
