// Hole (the 2025 procfs-redirect class): the runtime's writes to procfs went through the /proc the
// container sees. `exec` wrote process.oomScoreAdj to /proc/self/oom_score_adj after joining the
// container's mount namespace, and the only check was that the file opened lay on *a* procfs: a
// container that covers its /proc and points "self" at another process's directory (or a config
// that bind-mounts another procfs file over a sysctl's) had the runtime write someone else's file.
// The runtime must write the real file or refuse: oom_score_adj is set before any namespace is
// joined (the process inherits it), and other /proc writes resolve below a verified procfs root
// without crossing a mount.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Process } from "../../src/runc/config/types.ts";
import { makeBundle } from "../fixtures/busybox.ts";
import { Runtime, uniqueId } from "../helpers/runtime.ts";
import { SUBJECT_BIN } from "../integration/conformance/harness.ts";

let rt: Runtime;
before(async () => {
  rt = await Runtime.create(SUBJECT_BIN, "procfs-redirect");
});
after(async () => {
  await rt.destroy();
});

const oomScoreAdj = (pid: number) => readFileSync(`/proc/${pid}/oom_score_adj`, "utf8").trim();

async function waitFor(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test("exec: a container that redirects /proc/self cannot have its oomScoreAdj written to another process", async (t) => {
  // The container (root with CAP_SYS_ADMIN) keeps a real procfs at /realproc, covers /proc with a
  // tmpfs and makes /proc/self name its init's directory.
  const b = await makeBundle({
    args: [
      "sh",
      "-c",
      "mkdir -p /realproc && mount -t proc proc /realproc && mount -t tmpfs tmpfs /proc && " +
        "ln -s /realproc/1 /proc/self && echo ready && exec sleep 60",
    ],
    spec: (s) => {
      s.root!.readonly = false;
      const caps = s.process!.capabilities!;
      for (const set of ["bounding", "effective", "permitted"] as const)
        caps[set] = [...(caps[set] ?? []), "CAP_SYS_ADMIN"];
    },
  });
  t.after(() => b.cleanup());
  const id = uniqueId("oomx");
  const c = await rt.createContainer(id, b.dir);
  t.after(() => rt.delete(id, { force: true }));
  assert.equal(c.result.code, 0, c.result.stderr);
  assert.equal((await rt.start(id)).code, 0);
  await waitFor(() => readFileSync(c.output.stdoutPath, "utf8").includes("ready"), "the container to redirect /proc");
  const st = await rt.state(id);
  assert.ok(st?.pid);
  const initBefore = oomScoreAdj(st.pid);

  const proc: Process = {
    ...structuredClone(b.spec.process!),
    args: ["sh", "-c", "cat /realproc/self/oom_score_adj"],
    oomScoreAdj: 321,
  };
  const procFile = join(rt.work, `${id}.process.json`);
  writeFileSync(procFile, JSON.stringify(proc));
  const r = await rt.exec(["exec", "--process", procFile, id]);
  // Before the fix: exit 0, the exec'd process kept oom_score_adj 0 and the init got 321.
  assert.equal(oomScoreAdj(st.pid), initBefore, "the init's oom_score_adj was written by the exec");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), "321", "the exec'd process has its own oomScoreAdj");
});

test("create: a sysctl is never written through a file mounted over its /proc/sys path", async (t) => {
  // A host process whose oom_score_adj the config tries to reach through the sysctl write.
  const victim: ChildProcess = spawn("sleep", ["60"], { stdio: "ignore" });
  t.after(() => victim.kill("SIGKILL"));
  const vpid = victim.pid!;
  const victimBefore = oomScoreAdj(vpid);
  const b = await makeBundle({
    args: ["sh", "-c", "echo the container ran"],
    spec: (s) => {
      s.linux!.sysctl = { "net.ipv4.ip_forward": "1" };
      s.mounts!.push({
        destination: "/proc/sys/net/ipv4/ip_forward",
        type: "bind",
        source: `/proc/${vpid}/oom_score_adj`,
        options: ["bind"],
      });
    },
  });
  t.after(() => b.cleanup());
  const id = uniqueId("sysctlx");
  const r = await rt.run(id, b.dir);
  // Before the fix: the run succeeded and the host process's oom_score_adj became 1.
  assert.equal(oomScoreAdj(vpid), victimBefore, "the sysctl value was written into a host process's file");
  assert.notEqual(r.code, 0, "the run went through a file mounted over the sysctl");
  assert.match(r.stderr, /net\/ipv4\/ip_forward/);
  assert.deepEqual(await rt.rootEntries(), []);
});
