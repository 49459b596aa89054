// More args+env entries than the native stage's plan can carry (its per-op argument count is 16
// bits) must be refused up front with an error naming the field: before the fix, the plan failed to
// encode after nsexec was spawned, so berth-runc hung forever waiting for it, and a caller linking
// the runtime (berth-shim) kept one orphaned nsexec per attempt.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { InvalidSpecError } from "../../src/common/errors.ts";
import { createContainer } from "../../src/runc/container/create.ts";
import { StateStore } from "../../src/runc/container/state-store.ts";
import { makeBundle, makeTempDir } from "../fixtures/busybox.ts";
import { Runtime, uniqueId } from "../helpers/runtime.ts";
import { SUBJECT_BIN } from "../integration/conformance/harness.ts";

const MANY = 70_000;
const manyEnv = () => Array.from({ length: MANY }, (_, i) => `V${i}=x`);

let rt: Runtime;
before(async () => {
  rt = await Runtime.create(SUBJECT_BIN, "args-count");
});
after(async () => {
  await rt.destroy();
});

/** Pids of live processes whose working directory is `dir` (the runtime's, which nsexec inherits). */
function processesIn(dir: string): number[] {
  const found: number[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readlinkSync(`/proc/${e}/cwd`) === dir) found.push(Number(e));
    } catch {
      // Gone, or a kernel thread.
    }
  }
  return found;
}

/** Live children of this process (zombies excluded: they hold nothing). */
function children(): { pid: number; comm: string }[] {
  const found: { pid: number; comm: string }[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, "utf8");
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(rest[1]) === process.pid && rest[0] !== "Z")
        found.push({ pid: Number(e), comm: stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")) });
    } catch {
      // Gone.
    }
  }
  return found;
}

test("berth-runc run with 70,000 env entries fails at once, names process.env, leaves nothing", async (t) => {
  const b = await makeBundle({
    args: ["true"],
    spec: (s) => {
      s.process!.env = manyEnv();
    },
  });
  t.after(() => b.cleanup());
  // A private working directory tells this run's processes from those of tests running beside it.
  const cwd = await makeTempDir("berth-args-count-cwd-");
  const id = uniqueId("manyenv");
  const started = Date.now();
  const r = await rt.run(id, b.dir, { cwd, timeoutMs: 20_000 });
  assert.equal(r.timedOut, false, "berth-runc hung");
  assert.ok(Date.now() - started < 10_000, "the error came promptly");
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /process\.env/);
  assert.deepEqual(processesIn(cwd), [], "no nsexec (or container process) left");
  assert.deepEqual(await rt.rootEntries(), [], "no state directory left");
});

test("berth-runc exec with 70,000 args fails at once, names process.args, leaves nothing", async (t) => {
  const b = await makeBundle({ args: ["sleep", "30"] });
  t.after(() => b.cleanup());
  const id = uniqueId("manyargs");
  t.after(() => rt.delete(id, { force: true }));
  const c = await rt.createContainer(id, b.dir);
  assert.equal(c.result.code, 0, c.result.stderr);
  assert.equal((await rt.start(id)).code, 0);
  const scratch = await makeTempDir("berth-args-count-exec-");
  const processJson = join(scratch, "process.json");
  const proc = structuredClone(b.spec.process!);
  proc.args = ["echo", ...Array.from({ length: MANY }, (_, i) => `a${i}`)];
  writeFileSync(processJson, JSON.stringify(proc));
  const cwd = await makeTempDir("berth-args-count-cwd-");
  const r = await rt.exec(["exec", "--process", processJson, id], { cwd, timeoutMs: 20_000 });
  assert.equal(r.timedOut, false, "berth-runc exec hung");
  assert.equal(r.code, 255, r.stderr); // runc's status for a failed exec

  assert.match(r.stderr, /process\.args/);
  assert.deepEqual(processesIn(cwd), [], "no nsexec left");
  assert.equal((await rt.state(id))?.status, "running", "the container is untouched");
});

test("the linked runtime (as berth-shim calls it) rejects 70,000 env entries and spawns no nsexec", async (t) => {
  const b = await makeBundle({
    args: ["true"],
    spec: (s) => {
      s.process!.env = manyEnv();
    },
  });
  t.after(() => b.cleanup());
  const root = join(await makeTempDir("berth-args-count-root-"), "state");
  const store = new StateStore(root);
  const before = children().map((c) => c.pid);
  for (let attempt = 0; attempt < 3; attempt++) {
    const id = uniqueId("linked");
    const outcome = await Promise.race([
      createContainer(store, { id, bundle: b.dir, stdio: ["inherit", "inherit", "inherit"] }).then(
        () => "created",
        (e: unknown) => e,
      ),
      new Promise((r) => setTimeout(() => r("hung"), 10_000)),
    ]);
    assert.ok(outcome instanceof InvalidSpecError, `attempt ${attempt}: ${String(outcome)}`);
    assert.match(outcome.message, /process\.env/);
  }
  const left = children().filter((c) => !before.includes(c.pid));
  assert.deepEqual(left, [], "no nsexec left behind by any attempt");
  assert.deepEqual(existsSync(root) ? readdirSync(root) : [], [], "no state directory left");
});
