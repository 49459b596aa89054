// Hole: the seccomp notify fd was sent to a socket inside the container. The init connected to
// linux.seccomp.listenerPath after pivot_root (exec: after joining the container's mount
// namespace), so a socket the image (or a process already in the container) placed at that path
// received the fd and could answer the container's notified syscalls. As runc does, the runtime
// must connect in the host's mount namespace and send the runtime-spec's container process state
// (ociVersion, fds ["seccompFd"], pid, metadata = listenerMetadata, state) with the fd.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { makeBundle, makeTempDir } from "../fixtures/busybox.ts";
import { Runtime, uniqueId } from "../helpers/runtime.ts";
import { SUBJECT_BIN } from "../integration/conformance/harness.ts";

const RECEIVER = fileURLToPath(new URL("../fixtures/seccomp-receiver.py", import.meta.url));

let rt: Runtime;
before(async () => {
  rt = await Runtime.create(SUBJECT_BIN, "seccomp-listener");
});
after(async () => {
  await rt.destroy();
});

interface Received {
  payload: string;
  fds: string[];
}

/** A seccomp agent (test/fixtures/seccomp-receiver.py) listening at `socket`. */
async function agent(socket: string) {
  const child = spawn("python3", [RECEIVER, socket, "0"], { stdio: ["ignore", "pipe", "inherit"] });
  const got: Received[] = [];
  let buf = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    buf += d;
    for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
      got.push(JSON.parse(buf.slice(0, nl)) as Received);
      buf = buf.slice(nl + 1);
    }
  });
  for (let i = 0; i < 300 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(existsSync(socket), `agent socket ${socket} did not appear`);
  return {
    got,
    /** Waits until `n` connections were received (or the deadline passed); returns what arrived. */
    async wait(n: number, ms = 5000): Promise<Received[]> {
      const deadline = Date.now() + ms;
      while (got.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      return got;
    },
    stop: () => child.kill("SIGKILL"),
  };
}

/** A host directory for the listener, and the same path inside the bundle's rootfs. */
async function listenerBundle(args: string[]) {
  const hostDir = await makeTempDir("berth-seccomp-agent-");
  const listenerPath = join(hostDir, "agent.sock");
  const b = await makeBundle({
    args,
    // The image carries the same directory, so the path also names a place inside the container.
    rootfs: (root) => {
      mkdirSync(join(root, hostDir), { recursive: true });
    },
    spec: (s) => {
      s.linux!.seccomp = {
        defaultAction: "SCMP_ACT_ALLOW",
        listenerPath,
        listenerMetadata: "agent-metadata-1",
        // acct is never called here: the test is about where the fd goes, not about answering.
        syscalls: [{ names: ["acct"], action: "SCMP_ACT_NOTIFY" }],
      };
    },
  });
  return { b, listenerPath, insidePath: join(b.rootfs, listenerPath) };
}

function parseState(r: Received) {
  assert.equal(r.fds.length, 1, `one fd: ${JSON.stringify(r.fds)}`);
  assert.match(r.fds[0]!, /^anon_inode:seccomp notify$/);
  return JSON.parse(r.payload) as {
    ociVersion: string;
    fds: string[];
    pid: number;
    metadata?: string;
    state: { ociVersion: string; id: string; status: string; pid?: number; bundle: string };
  };
}

test("create: the notify fd and the container process state go to the host's listener, not the rootfs's", async (t) => {
  const { b, listenerPath, insidePath } = await listenerBundle(["true"]);
  t.after(() => b.cleanup());
  const host = await agent(listenerPath);
  t.after(() => host.stop());
  const inside = await agent(insidePath);
  t.after(() => inside.stop());

  const id = uniqueId("scmp");
  const c = await rt.createContainer(id, b.dir);
  t.after(() => rt.delete(id, { force: true }));
  assert.equal(c.result.code, 0, c.result.stderr);
  const st = await rt.state(id);
  assert.ok(st?.pid);

  const received = await host.wait(1);
  // Before the fix: nothing reached the host's listener; the socket in the rootfs got the fd.
  assert.equal(inside.got.length, 0, `the socket inside the rootfs received: ${JSON.stringify(inside.got)}`);
  assert.equal(received.length, 1, "the host's listener received nothing");
  const s = parseState(received[0]!);
  assert.deepEqual(s.fds, ["seccompFd"]);
  assert.equal(s.pid, st.pid);
  assert.equal(s.metadata, "agent-metadata-1");
  assert.equal(s.ociVersion, b.spec.ociVersion);
  assert.deepEqual(
    { id: s.state.id, status: s.state.status, pid: s.state.pid, bundle: s.state.bundle },
    { id, status: "creating", pid: st.pid, bundle: b.dir },
  );

  assert.equal((await rt.start(id)).code, 0);
  await rt.waitStatus(id, "stopped");
  assert.equal(inside.got.length, 0);
});

test("exec: a listener inside the running container never gets the new process's notify fd", async (t) => {
  const { b, listenerPath, insidePath } = await listenerBundle(["sleep", "30"]);
  t.after(() => b.cleanup());
  const host = await agent(listenerPath);
  t.after(() => host.stop());
  // A process already in the container listens at the listener path (bound from outside here:
  // the same socket file, as the container sees it).
  const inside = await agent(insidePath);
  t.after(() => inside.stop());

  const id = uniqueId("scmpx");
  const c = await rt.createContainer(id, b.dir);
  t.after(() => rt.delete(id, { force: true }));
  assert.equal(c.result.code, 0, c.result.stderr);
  assert.equal((await rt.start(id)).code, 0);
  const st = await rt.state(id);
  assert.ok(st?.pid);

  const pidFile = join(rt.work, `${id}.exec.pid`);
  const r = await rt.exec(["exec", "--pid-file", pidFile, id, "sh", "-c", "echo exec ran"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), "exec ran");
  const execPid = Number(await readFile(pidFile, "utf8"));

  const received = await host.wait(2);
  assert.equal(inside.got.length, 0, `the socket inside the container received: ${JSON.stringify(inside.got)}`);
  assert.equal(received.length, 2, `the host's listener received ${received.length} of 2`);
  const s = parseState(received[1]!);
  assert.deepEqual(s.fds, ["seccompFd"]);
  assert.equal(s.pid, execPid);
  assert.equal(s.metadata, "agent-metadata-1");
  assert.deepEqual(
    { id: s.state.id, status: s.state.status, pid: s.state.pid },
    { id, status: "running", pid: st.pid },
  );
});

test("run: with no agent on the host, a socket at the path in the rootfs is not used; nothing is left", async (t) => {
  const { b, listenerPath, insidePath } = await listenerBundle(["true"]);
  t.after(() => b.cleanup());
  const inside = await agent(insidePath);
  t.after(() => inside.stop());
  const id = uniqueId("scmpr");
  const r = await rt.run(id, b.dir);
  // Before the fix the run succeeded and the socket in the rootfs got the fd.
  assert.equal(inside.got.length, 0, `the socket inside the rootfs received: ${JSON.stringify(inside.got)}`);
  assert.equal(r.code, 1, r.stderr);
  assert.ok(r.stderr.includes(listenerPath), r.stderr);
  assert.match(r.stderr, /seccomp agent.*linux\.seccomp\.listenerPath.*no such file or directory/);
  assert.deepEqual(await rt.rootEntries(), []);
  assert.equal(existsSync(`/sys/fs/cgroup/pids/${id}`), false);
});
