// One exit per run: an exit's event and a reconcile after containerd came back, in either order,
// record the code the task exited with, once (one "die", waiters answered once). Against a fake
// containerd whose answers the test orders.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { ContainerdConnection } from "../../client/connection.ts";
import type { ProcessState } from "../../client/tasks.ts";
import { NotFoundError } from "../../common/errors.ts";
import { DaemonLogger } from "../../common/log.ts";
import type { EngineEvents } from "../events/emit.ts";
import { reconcile, recordExit } from "./exit-handling.ts";
import { newLive } from "./live.ts";
import { testRecord } from "./record.testing.ts";
import { createdState, started } from "./record.ts";
import { ContainerTable } from "./table.ts";

const ID = "c".repeat(64);
const EXITED_AT = new Date("2026-12-06T04:00:02.000Z");

/** A containerd whose task of ID exited 6: delete answers at once; get waits for `getGate`. */
function fakeContainerd(getGate: Promise<void>) {
  let deleted = false;
  const tasks = {
    delete: async () => {
      if (deleted) throw new NotFoundError(`task ${ID} not found`);
      deleted = true;
      return { exitStatus: 6, exitedAt: EXITED_AT, pid: 42 };
    },
    get: async (): Promise<ProcessState> => {
      await getGate;
      if (deleted) throw new NotFoundError(`task ${ID} not found`);
      return {
        containerId: ID,
        id: "",
        pid: 42,
        status: "stopped",
        terminal: false,
        exitStatus: 6,
        exitedAt: EXITED_AT,
      };
    },
  };
  return { tasks } as unknown as ContainerdConnection;
}

const runningRecord = () =>
  testRecord({
    id: ID,
    name: "quick",
    cmd: ["sh", "-c", "exit 6"],
    state: started(createdState(), 42, new Date("2026-12-06T04:00:00.500Z")),
  });

function table(getGate: Promise<void>) {
  const root = mkdtempSync(join(tmpdir(), "berth-exit-handling-"));
  const dies: string[] = [];
  const events: EngineEvents = {
    container: (_c, action, extra) => {
      if (action === "die") dies.push(extra?.exitCode ?? "");
    },
    image: () => {},
    pruned: () => {},
  };
  const t = new ContainerTable({
    conn: fakeContainerd(getGate),
    dataRoot: join(root, "data"),
    execRoot: join(root, "exec"),
    runtimes: {},
    defaultRuntime: "berth-runc",
    log: new DaemonLogger("error"),
    events,
  });
  t.store.makeDir(ID);
  const live = newLive(runningRecord());
  live.task = { stdio: undefined, started: Promise.resolve(true), oom: false };
  t.live.set(ID, live);
  const codes: number[] = [];
  live.exitWaiters.add((c) => codes.push(c));
  return { t, live, dies, codes, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

test("the exit's event first, then a reconcile whose get comes after the delete: 6 once, not 255", async () => {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const { t, live, dies, codes, cleanup } = table(gate);
  try {
    const byEvent = recordExit(t, ID, 6, EXITED_AT, 0);
    const byReconcile = reconcile(t);
    await byEvent;
    open();
    await byReconcile;
    assert.equal(live.record.State.Status, "exited");
    assert.equal(live.record.State.ExitCode, 6);
    assert.equal(live.record.State.FinishedAt, EXITED_AT.toISOString());
    assert.deepEqual(dies, ["6"]);
    assert.deepEqual(codes, [6]);
  } finally {
    cleanup();
  }
});

test("a reconcile first, the exit's event while its get is unanswered: 6 once", async () => {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const { t, live, dies, codes, cleanup } = table(gate);
  try {
    const byReconcile = reconcile(t);
    await recordExit(t, ID, 6, EXITED_AT, 0);
    open();
    await byReconcile;
    assert.equal(live.record.State.ExitCode, 6);
    assert.deepEqual(dies, ["6"]);
    assert.deepEqual(codes, [6]);
  } finally {
    cleanup();
  }
});

test("a reconcile alone finds the stopped task: its code, recorded once", async () => {
  const { t, live, dies, codes, cleanup } = table(Promise.resolve());
  try {
    await reconcile(t);
    assert.equal(live.record.State.ExitCode, 6);
    assert.deepEqual(dies, ["6"]);
    assert.deepEqual(codes, [6]);
  } finally {
    cleanup();
  }
});
