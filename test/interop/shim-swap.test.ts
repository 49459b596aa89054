// The shim v2 seam, swapped on either side:
// - Debian's containerd runs containers through berth-shim, installed as a containerd runtime shim
//   (containerd-shim-berth-v1 on containerd's PATH, chosen with `ctr run --runtime io.containerd.berth.v1`);
// - berth-containerd runs containers through Debian's containerd-shim-runc-v2;
// - berth-shim drives berth-runc (its default), runc and crun (`ctr run --runc-binary`).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { makeTempDir } from "../fixtures/busybox.ts";
import { writeImageArchive } from "../fixtures/oci-image.ts";
import {
  type BerthContainerd,
  type CtrResult,
  retryUntil,
  shimPids,
  startWithBusybox,
} from "../helpers/berth-containerd.ts";
import { type Containerd, startContainerd } from "../helpers/peers.ts";

const repo = join(import.meta.dirname, "..", "..");
const BERTH_SHIM = join(repo, "dist", "berth-shim.mjs");
const RUNC_SHIM = "/usr/bin/containerd-shim-runc-v2";
const IMAGE = "docker.io/berth/busybox:latest";
const root = process.getuid?.() !== 0;
const skip = root
  ? "interop tests run as root"
  : ["/usr/bin/ctr", "/usr/bin/containerd", RUNC_SHIM, "/usr/sbin/runc", "/usr/bin/crun"].find((b) => !existsSync(b));

type Daemon = BerthContainerd & { cleanup(): Promise<void> };

/** `ctr events` in the background; stop() returns what it printed. */
function watchEvents(d: BerthContainerd): { stop(): Promise<string> } {
  const child = spawn("/usr/bin/ctr", ["--address", d.address, "events"], { stdio: ["ignore", "pipe", "ignore"] });
  let out = "";
  child.stdout.on("data", (b: Buffer) => {
    out += b.toString();
  });
  return {
    stop: async () => {
      await new Promise((r) => setTimeout(r, 300)); // let the last events arrive
      child.kill();
      return out;
    },
  };
}

const ok = (r: CtrResult | { code: number; stdout: string; stderr: string }, what: string) => {
  const code = "status" in r ? r.status : r.code;
  assert.equal(code, 0, `${what}: ${r.stderr}${r.stdout}`);
  return r.stdout;
};

/** The shim processes serving a daemon (not its spare). */
const shimsOf = shimPids;

describe("Debian's containerd runs tasks through berth-shim", { skip }, () => {
  let c: Containerd;
  let archive: string;
  let shimDir: string;
  const savedPath = process.env.PATH;

  before(async () => {
    // containerd finds runtime shims on its PATH: containerd-shim-<name>-<version>.
    shimDir = await makeTempDir("berth-shim-path-");
    symlinkSync(BERTH_SHIM, join(shimDir, "containerd-shim-berth-v1"));
    process.env.PATH = `${shimDir}:${savedPath}`;
    try {
      c = await startContainerd();
    } finally {
      process.env.PATH = savedPath;
    }
    archive = join(shimDir, "busybox.tar");
    await writeImageArchive(archive, { name: IMAGE });
    ok(await c.ctr(["images", "import", archive]), "import");
  });

  after(async () => {
    await c?.stop();
    // berth-shim's runtime root for this namespace (containerd leaves /run/containerd/runc/<ns> alike).
    if (c) rmSync(join("/run/berth/runc", c.namespace), { recursive: true, force: true });
  });

  const run = ["run", "--runtime", "io.containerd.berth.v1"];

  test("run --rm: output and exit codes", { timeout: 60_000 }, async () => {
    const r = await c.ctr([...run, "--rm", IMAGE, "swap-hi", "echo", "hi from berth-shim"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "hi from berth-shim\n");
    const three = await c.ctr([...run, "--rm", IMAGE, "swap-3", "sh", "-c", "exit 3"]);
    assert.equal(three.code, 3, three.stderr);
  });

  test("run -d, exec, kill, delete; the shim exits with its task", { timeout: 60_000 }, async () => {
    ok(await c.ctr([...run, "-d", IMAGE, "swap-bg", "sleep", "1000"]), "run -d");
    const ls = ok(await c.ctr(["task", "ls"]), "task ls");
    assert.match(ls, /^swap-bg\s+\d+\s+RUNNING/m);
    const shims = shimsOf(c.address);
    assert.equal(shims.length, 1, "one shim for the task");
    assert.match(readFileSync(`/proc/${shims[0]}/cmdline`, "utf8"), /berth-shim|containerd-shim-berth-v1/);
    const ex = await c.ctr(["task", "exec", "--exec-id", "x", "swap-bg", "sh", "-c", "echo in; exit 4"]);
    assert.equal(ex.code, 4, ex.stderr);
    assert.equal(ex.stdout, "in\n");
    ok(await c.ctr(["task", "kill", "-s", "SIGKILL", "swap-bg"]), "kill");
    ok(
      await retryUntil(
        () => c.ctr(["task", "delete", "swap-bg"]),
        (r) => r.code === 0,
      ),
      "task delete",
    );
    ok(await c.ctr(["containers", "rm", "swap-bg"]), "containers rm");
    for (let i = 0; i < 50 && shimsOf(c.address).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(shimsOf(c.address), [], "the shim exited after its task was deleted");
  });
});

describe("berth-containerd runs tasks through containerd-shim-runc-v2", { skip }, () => {
  let d: Daemon;

  before(async () => {
    d = await startWithBusybox(["--runtime-shim", `io.containerd.runc.v2=${RUNC_SHIM}`]);
  });

  after(async () => {
    await d?.cleanup();
  });

  test("run --rm, exit codes, run -d + kill + delete, events", { timeout: 90_000 }, async () => {
    const r = await d.ctrAsync(["run", "--rm", IMAGE, "ref-hi", "echo", "hi from runc-v2"]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "hi from runc-v2\n");
    const three = await d.ctrAsync(["run", "--rm", IMAGE, "ref-3", "sh", "-c", "exit 3"]);
    assert.equal(three.status, 3, three.stderr);

    const events = watchEvents(d);
    await new Promise((res) => setTimeout(res, 300)); // subscribed before the task starts
    ok(await d.ctrAsync(["run", "-d", IMAGE, "ref-bg", "sleep", "1000"]), "run -d");
    const shims = shimsOf(d.address);
    assert.equal(shims.length, 1);
    assert.match(readFileSync(`/proc/${shims[0]}/cmdline`, "utf8"), /containerd-shim-runc-v2/);
    assert.match(ok(await d.ctrAsync(["task", "ls"]), "ls"), /^ref-bg\s+\d+\s+RUNNING/m);
    ok(await d.ctrAsync(["task", "kill", "-s", "SIGKILL", "ref-bg"]), "kill");
    ok(
      await retryUntil(
        () => d.ctrAsync(["task", "delete", "ref-bg"]),
        (r) => r.status === 0,
      ),
      "task delete",
    );
    ok(await d.ctrAsync(["containers", "rm", "ref-bg"]), "containers rm");
    for (let i = 0; i < 50 && shimsOf(d.address).length > 0; i++) await new Promise((res) => setTimeout(res, 100));
    assert.deepEqual(shimsOf(d.address), []);
    // The shim's events came back over the daemon's ttrpc socket to ctr's subscription.
    const seen = await events.stop();
    for (const topic of ["/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"]) {
      assert.match(seen, new RegExp(`${topic}\\s.*"?ref-bg`), `${topic} in:\n${seen}`);
    }
  });
});

describe("berth-shim drives berth-runc, runc and crun", { skip }, () => {
  let d: Daemon;
  let crunWrapper: string;

  before(async () => {
    d = await startWithBusybox();
    // crun 1.8 refuses this host's hybrid cgroups unless the cgroup2 mount is out of its sight.
    crunWrapper = join(d.dir, "crun-hybrid");
    const log = join(d.dir, "crun-calls.log");
    writeFileSync(
      crunWrapper,
      `#!/bin/sh\necho "$*" >> ${log}\nexec unshare -m sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec /usr/bin/crun "$@"' crun "$@"\n`,
      { mode: 0o755 },
    );
  });

  after(async () => {
    await d?.cleanup();
  });

  for (const [name, flags] of [
    ["berth-runc (default)", []],
    ["runc", ["--runc-binary", "/usr/sbin/runc"]],
    ["crun", ["--runc-binary", "CRUN"]],
  ] as const) {
    test(name, { timeout: 60_000 }, async () => {
      const f = flags.map((x) => (x === "CRUN" ? crunWrapper : x));
      const id = `rt-${name.split(" ")[0]}`;
      const r = await d.ctrAsync(["run", "--rm", ...f, IMAGE, id, "sh", "-c", "echo hi from $0; exit 6"]);
      assert.equal(r.status, 6, r.stderr);
      assert.equal(r.stdout, "hi from sh\n");
      ok(await d.ctrAsync(["run", "-d", ...f, IMAGE, `${id}-bg`, "sleep", "1000"]), "run -d");
      const ex = await d.ctrAsync(["task", "exec", "--exec-id", "e", `${id}-bg`, "echo", "exec ok"]);
      assert.equal(ex.status, 0, ex.stderr);
      assert.equal(ex.stdout, "exec ok\n");
      ok(await d.ctrAsync(["task", "pause", `${id}-bg`]), "pause");
      ok(await d.ctrAsync(["task", "resume", `${id}-bg`]), "resume");
      ok(await d.ctrAsync(["task", "kill", "-s", "SIGKILL", `${id}-bg`]), "kill");
      ok(
        await retryUntil(
          () => d.ctrAsync(["task", "delete", `${id}-bg`]),
          (r) => r.status === 0,
        ),
        "task delete",
      );
      ok(await d.ctrAsync(["containers", "rm", `${id}-bg`]), "rm");
      if (name === "crun") assert.match(readFileSync(join(d.dir, "crun-calls.log"), "utf8"), /create/);
    });
  }
});
