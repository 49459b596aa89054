// Crash safety: berth-runc killed with SIGKILL in the middle of `create` leaves nothing that
// `delete --force` cannot remove: the state records the cgroups and the init before they exist.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { makeBundle, makeTempDir } from "../../fixtures/busybox.ts";
import { Runtime, uniqueId } from "../../helpers/runtime.ts";
import { SUBJECT_BIN } from "../conformance/harness.ts";

let rt: Runtime;
before(async () => {
  rt = await Runtime.create(SUBJECT_BIN, "crash");
});
after(async () => {
  await rt.destroy();
});

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/\) [ZX] /.test(stat);
  } catch {
    return false;
  }
}

test("kill -9 of berth-runc during create: the init goes, delete --force removes the rest", async (t) => {
  const scratch = await makeTempDir("berth-crash-");
  const hookPid = join(scratch, "hook.pid");
  const id = uniqueId("crash");
  const b = await makeBundle({
    args: ["true"],
    spec: (s) => {
      s.linux!.cgroupsPath = `/berth-crash-${id}`;
      // The create stops at the hook point while this hook runs: that is when the runtime dies.
      s.hooks = { createRuntime: [{ path: "/bin/sh", args: ["sh", "-c", `echo $$ > ${hookPid}; exec sleep 30`] }] };
    },
  });
  t.after(() => b.cleanup());
  const runtime = spawn(SUBJECT_BIN, ["--root", rt.root, "create", "--bundle", b.dir, id], { stdio: "ignore" });
  const exited = new Promise((resolve) => runtime.on("exit", resolve));
  // The file exists before the shell has written to it: wait for a whole, positive pid (a 0 given
  // to process.kill would signal this test's own process group).
  const hook = await waitFor("the hook", () => {
    const text = existsSync(hookPid) ? readFileSync(hookPid, "utf8") : "";
    return /^\d+\n$/.test(text) && Number(text) > 1 ? Number(text) : undefined;
  });
  t.after(() => {
    try {
      process.kill(hook, "SIGKILL");
    } catch {
      // Gone.
    }
  });
  const state = JSON.parse(readFileSync(join(rt.root, id, "state.json"), "utf8")) as {
    pid: number;
    cgroupPaths: Record<string, string>;
  };
  assert.ok(state.pid > 0, "the init's pid is recorded before the hooks run");
  const cgroupDirs = Object.values(state.cgroupPaths);
  assert.ok(cgroupDirs.length > 0 && cgroupDirs.every((d) => existsSync(d)));

  runtime.kill("SIGKILL");
  await exited;
  // The init was waiting for the runtime's answer at the hook point: it sees the socket close.
  await waitFor("the init to exit", () => (alive(state.pid) ? undefined : true));
  const st = await rt.state(id);
  assert.equal(st?.status, "stopped");

  const del = await rt.delete(id, { force: true });
  assert.equal(del.code, 0, del.stderr);
  assert.deepEqual(await rt.rootEntries(), []);
  for (const d of cgroupDirs) assert.equal(existsSync(d), false, `${d} removed`);
});
