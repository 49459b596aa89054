// Our ttrpc client against the reference ttrpc server: Debian's containerd-shim-runc-v2 (1.6),
// started the way containerd starts it (`... start` in a bundle dir prints the shim's socket
// address). No container is created; Connect, State and an unknown method show that framing,
// the envelope, metadata and status codes agree with the real peer. Needs root (the shim's
// socket lives under /run/containerd/s); skipped with the reason otherwise.
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { BerthError } from "../../src/common/errors.ts";
import { Task } from "../../src/proto/gen/containerd/task/v2/shim_pb.js";
import { createTtrpcClient, socketPathOf, TtrpcConnection } from "../../src/rpc/ttrpc/client.ts";

const SHIM = "/usr/bin/containerd-shim-runc-v2";
const run = promisify(execFile);

function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return "the shim needs root (/run/containerd/s)";
  if (!existsSync(SHIM)) return `${SHIM} not found`;
  return undefined;
}

const skip = skipReason();

/**
 * Runs `shim ... start` as containerd does and returns what it prints (the socket address). Its
 * stdin is empty (it reads options from there) and we wait for its exit, not for its pipes: the
 * shim it leaves running may hold them.
 */
function startShim(args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(SHIM, [...args, "start"], { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      err += c.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      // Let the pipes deliver what was written before the exit.
      setImmediate(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        if (code === 0) resolve(out);
        else reject(new Error(`${SHIM} start: exit ${code ?? signal}: ${err}`));
      });
    });
  });
}

describe("ttrpc client → containerd-shim-runc-v2", { skip }, () => {
  const ns = `berth-ttrpc-${process.pid}`;
  const id = `ttrpc-${Math.random().toString(36).slice(2, 8)}`;
  let dir = "";
  let address = "";
  let logReader: ChildProcess | undefined;
  let log = "";
  let shimPid = 0;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "berth-ttrpc-shim-"));
    // The shim reads the bundle's config.json (for annotations) and writes its log to the fifo "log".
    writeFileSync(join(dir, "config.json"), JSON.stringify({ ociVersion: "1.0.2", annotations: {} }));
    await run("mkfifo", [join(dir, "log")]);
    logReader = spawn("cat", [join(dir, "log")], { stdio: ["ignore", "pipe", "ignore"] });
    logReader.stdout?.on("data", (c: Buffer) => {
      log += c.toString();
    });
    // -address names containerd's socket (for events); nothing listens there, which is fine here.
    address = (await startShim(["-namespace", ns, "-address", join(dir, "containerd.sock"), "-id", id], dir)).trim();
    assert.match(address, /^unix:\/\//);
  });

  after(async () => {
    // Ask the shim to exit; kill it if it will not; then remove what it and we left.
    if (address) {
      const t = createTtrpcClient(Task, address, { namespace: ns, timeoutMs: 3000 });
      if (shimPid === 0) shimPid = (await t.connect({ id }).catch(() => ({ shimPid: 0 }))).shimPid;
      await t.shutdown({ id }).catch(() => {});
      t.close();
    }
    if (shimPid > 0) {
      try {
        process.kill(shimPid, "SIGKILL");
      } catch {}
    }
    logReader?.kill("SIGKILL");
    if (address) rmSync(socketPathOf(address), { force: true });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("Connect answers with the shim's pid", async () => {
    const t = createTtrpcClient(Task, address, { namespace: ns, timeoutMs: 5000 });
    try {
      const res = await t.connect({ id });
      assert.ok(res.shimPid > 0, `shim pid ${res.shimPid}`);
      assert.equal(res.taskPid, 0);
      shimPid = res.shimPid;
      process.kill(shimPid, 0); // it is alive, so the answer is real
    } finally {
      t.close();
    }
  });

  it("State of an uncreated task comes back as not-found", async () => {
    const t = createTtrpcClient(Task, address, { namespace: ns, timeoutMs: 5000 });
    try {
      await assert.rejects(t.state({ id }), (err) => {
        assert.ok(err instanceof BerthError, String(err));
        assert.equal(err.kind, "not-found", `${err.message}\nshim log:\n${log}`);
        assert.match(err.message, /not created/);
        return true;
      });
    } finally {
      t.close();
    }
  });

  it("answers concurrent calls on one connection", async () => {
    const t = createTtrpcClient(Task, address, { namespace: ns, timeoutMs: 5000 });
    try {
      const answers = await Promise.all(Array.from({ length: 20 }, () => t.connect({ id })));
      assert.equal(answers.length, 20);
      for (const a of answers) assert.ok(a.shimPid > 0 && a.shimPid === answers[0]?.shimPid);
    } finally {
      t.close();
    }
  });

  it("answers an unknown method as not-implemented", async () => {
    const conn = TtrpcConnection.connect(address);
    try {
      await assert.rejects(conn.call("containerd.task.v2.Task", "NoSuchMethod", new Uint8Array(0)), (err) => {
        assert.ok(err instanceof BerthError && err.kind === "not-implemented", String(err));
        return true;
      });
    } finally {
      conn.close();
    }
  });
});
