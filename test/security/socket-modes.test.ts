// Hole: berth-containerd's gRPC and ttrpc sockets and the shim's socket were created with whatever
// the umask allowed, so under `umask 000` any local user could drive the daemon (`ctr namespaces
// ls` as nobody worked) or a shim. The attacker here is an unprivileged local user (uid 65534)
// who can traverse the directories that hold the sockets; the daemon and its spare shim run
// under umask 000. Host-side checks: the sockets are 0660 (daemon) and 0600 (shim), the
// directories holding them 0711, nobody cannot connect to any of them, an existing state
// directory with looser permissions is tightened, and one owned by another user is refused. A
// shim started with `berth-shim start` (as Debian's containerd runs it) is checked the same way.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, lstatSync, readFileSync, statSync } from "node:fs";
import { rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Task } from "../../src/proto/gen/containerd/task/v2/shim_pb.js";
import { createTtrpcClient } from "../../src/rpc/ttrpc/client.ts";
import { makeTempDir } from "../fixtures/busybox.ts";
import { type BerthContainerd, CTR, startBerthContainerd } from "../helpers/berth-containerd.ts";
import { pidsWithArgument } from "../helpers/peers.ts";

const SHIM = join(import.meta.dirname, "..", "..", "dist", "berth-shim.mjs");
const NOBODY = ["--reuid=65534", "--regid=65534", "--clear-groups"];
const skip =
  process.getuid?.() !== 0
    ? "root only"
    : [CTR, "/usr/bin/setpriv", SHIM].find((b) => !existsSync(b)) && "needs ctr, setpriv and a build";

const modeOf = (p: string) => lstatSync(p).mode & 0o7777;
const octal = (m: number) => `0${m.toString(8)}`;

/** Tries to connect to a unix socket as nobody; the errno code, or "connected". */
function connectAsNobody(path: string): string {
  const script = `require("net").connect(${JSON.stringify(path)})
    .on("connect", () => { console.log("connected"); process.exit(0); })
    .on("error", (e) => { console.log(e.code); process.exit(0); });`;
  const r = spawnSync("setpriv", [...NOBODY, process.execPath, "-e", script], { encoding: "utf8", timeout: 10_000 });
  return (r.stdout || r.stderr).trim();
}

/** The socket of the daemon's spare berth-shim (started at start-up), once it serves. */
async function spareSocket(address: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    for (const pid of pidsWithArgument(address)) {
      try {
        const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
        const s = argv[argv.indexOf("-socket") + 1];
        if (argv.includes("-spare") && s && existsSync(s)) return s;
      } catch {}
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("no spare shim socket appeared");
}

describe("sockets and their directories do not depend on the umask", { skip }, () => {
  let d: BerthContainerd & { cleanup(): Promise<void> };
  let umask = 0;

  before(async () => {
    // Children inherit it: the daemon and the shims it starts all run under umask 000.
    umask = process.umask(0);
    d = await startBerthContainerd();
    // The private test dir stands in for /run: traversable, as /run is.
    chmodSync(d.dir, 0o711);
  });

  after(async () => {
    process.umask(umask);
    await d?.cleanup();
  });

  test("the daemon's sockets are 0660 in 0711 directories; nobody cannot use them", async () => {
    const ttrpc = `${d.address}.ttrpc`;
    assert.ok(statSync(d.address).isSocket());
    assert.equal(octal(modeOf(d.address)), "0660", "gRPC socket");
    assert.equal(octal(modeOf(ttrpc)), "0660", "ttrpc socket");
    assert.equal(octal(modeOf(dirname(d.address))), "0711", "socket directory");
    assert.equal(octal(modeOf(d.state)), "0711", "state directory");
    assert.equal(octal(modeOf(d.root)), "0711", "root directory");

    const r = spawnSync("setpriv", [...NOBODY, CTR, "--address", d.address, "namespaces", "ls"], {
      encoding: "utf8",
      timeout: 30_000,
    });
    assert.notEqual(r.status, 0, `nobody ran ctr namespaces ls: ${r.stdout}`);
    assert.match(r.stderr, /permission denied/i);
    assert.equal(connectAsNobody(ttrpc), "EACCES");
    // Root still can.
    assert.equal(d.ctr(["namespaces", "ls"]).status, 0);
  });

  test("the shim's socket is 0600 in a 0711 directory; nobody cannot use it", async () => {
    const socket = await spareSocket(d.address);
    assert.ok(statSync(socket).isSocket());
    assert.equal(octal(modeOf(socket)), "0600", "shim socket");
    assert.equal(octal(modeOf(dirname(socket))), "0711", "shim socket directory");
    assert.equal(connectAsNobody(socket), "EACCES");
  });

  test("a shim started by `berth-shim start`, as containerd runs it, makes its socket 0600", async () => {
    const bundle = await makeTempDir("berth-shim-bundle-");
    const ns = "socket-modes";
    const id = `socket-modes-${process.pid}`;
    const address = execFileSync(SHIM, ["-namespace", ns, "-address", "/nonexistent.sock", "-id", id, "start"], {
      cwd: bundle,
      encoding: "utf8",
      env: { ...process.env, TTRPC_ADDRESS: "" },
    }).trim();
    const task = createTtrpcClient(Task, address, { namespace: ns, timeoutMs: 10_000 });
    try {
      const socket = address.replace(/^unix:\/\//, "");
      assert.equal(octal(modeOf(socket)), "0600", "shim socket");
      assert.equal(octal(modeOf(dirname(socket))), "0711", "shim socket directory");
      assert.equal(connectAsNobody(socket), "EACCES");
    } finally {
      await task.shutdown({ id, now: true }).catch(() => {});
      task.close();
      await rm(bundle, { recursive: true, force: true });
    }
  });

  test("an existing state directory with looser modes is tightened; another owner's is refused", {
    timeout: 60_000,
  }, async () => {
    await d.stop();
    chmodSync(d.state, 0o777);
    chmodSync(d.root, 0o755);
    await d.start();
    assert.equal(octal(modeOf(d.state)), "0711", "state tightened");
    assert.equal(octal(modeOf(d.root)), "0711", "root tightened");
    assert.equal(octal(modeOf(d.address)), "0660");

    await d.stop();
    chownSync(d.state, 65534, 65534);
    try {
      await assert.rejects(d.start(), (err: Error) => {
        assert.match(err.message, new RegExp(`${d.state}.*owned by uid 65534`));
        return true;
      });
      assert.equal(existsSync(d.address), false, "no socket in a directory another user owns");
    } finally {
      chownSync(d.state, 0, 0);
    }
    await d.start();
  });
});
