// The runtime's launcher seam, in-process: createContainer and execInContainer run nsexec through
// a Launcher the caller gives (here a child_process one; in berth-shim, the task's keeper). nsexec
// gets exactly its stdio and the sync socket as fds 0..3, and the pid file is on disk before
// nsexec exits, which is when a keeper reads it. A launcher that cannot start nsexec fails the
// create and leaves nothing behind.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { closeSync, constants, existsSync, openSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createContainer } from "../../../src/runc/container/create.ts";
import { execInContainer } from "../../../src/runc/container/exec.ts";
import type { Launched, Launcher } from "../../../src/runc/container/launcher.ts";
import { deleteContainer, startContainer } from "../../../src/runc/container/lifecycle.ts";
import { StateStore } from "../../../src/runc/container/state-store.ts";
import { type Bundle, makeBundle, makeTempDir } from "../../fixtures/busybox.ts";

const skip = process.getuid?.() !== 0 ? "runs containers: root only" : undefined;

/** Runs with child_process; records what it ran and whether `pidFile` existed when it exited. */
class RecordingLauncher implements Launcher {
  readonly runs: { argv: string[]; fds: number; pidFileAtExit: boolean; exit: number }[] = [];
  readonly #pidFile: string;
  constructor(pidFile: string) {
    this.#pidFile = pidFile;
  }
  async launch(argv: readonly string[], env: readonly string[], fds: readonly number[]): Promise<Launched> {
    const child = spawn(argv[0]!, argv.slice(1), {
      stdio: [...fds],
      env: Object.fromEntries(env.map((e) => e.split("=", 2) as [string, string])),
    });
    const run = { argv: [...argv], fds: fds.length, pidFileAtExit: false, exit: -1 };
    this.runs.push(run);
    await new Promise((ok, fail) => {
      child.once("spawn", ok);
      child.once("error", fail);
    });
    const exit = new Promise<number>((ok) =>
      child.once("exit", (code, sig) => {
        run.pidFileAtExit = existsSync(this.#pidFile);
        run.exit = code ?? 128;
        ok(sig ? 128 : (code ?? 1));
      }),
    );
    return { pid: child.pid!, exit };
  }
}

describe("the runtime's processes through a Launcher", { skip }, () => {
  let root: string;
  let store: StateStore;
  let bundle: Bundle;
  let devNull: number;
  const id = `launcher-${process.pid}`;

  before(async () => {
    root = await makeTempDir("berth-launcher-root-");
    store = new StateStore(root);
    bundle = await makeBundle({ args: ["sleep", "600"] });
    devNull = openSync("/dev/null", constants.O_RDWR);
  });
  after(async () => {
    await deleteContainer(store, id, true, () => {}).catch(() => {});
    closeSync(devNull);
    await bundle.cleanup();
  });

  test("create and exec: nsexec gets stdio + the sync socket; the pid file is there when it exits", {
    timeout: 60_000,
  }, async () => {
    const pidFile = join(bundle.dir, "init.pid");
    const launcher = new RecordingLauncher(pidFile);
    await createContainer(store, {
      id,
      bundle: bundle.dir,
      pidFile,
      mode: "create",
      stdio: [devNull, devNull, devNull],
      launcher,
    });
    const [run] = launcher.runs;
    assert.equal(run?.fds, 4, "stdin, stdout, stderr and the sync socket");
    assert.deepEqual(run?.argv.slice(1), ["3", "3"]);
    assert.equal(run?.exit, 0);
    assert.equal(run?.pidFileAtExit, true, "the pid file was written before nsexec exited");
    const pid = Number(readFileSync(pidFile, "utf8"));
    assert.equal(store.load(id).pid, pid);
    await startContainer(store, id);

    const execPid = join(bundle.dir, "exec.pid");
    const execLauncher = new RecordingLauncher(execPid);
    const proc = { ...bundle.spec.process!, args: ["sleep", "600"] };
    const e = await execInContainer(store, id, {
      process: proc,
      detach: true,
      pidFile: execPid,
      stdio: [devNull, devNull, devNull],
      launcher: execLauncher,
    });
    assert.equal(execLauncher.runs[0]?.pidFileAtExit, true);
    assert.equal(Number(readFileSync(execPid, "utf8")), e.pid);
    assert.ok(readFileSync(`/proc/${e.pid}/cmdline`, "utf8").startsWith("sleep"));
    await deleteContainer(store, id, true, () => {});
  });

  test("a launcher that fails leaves no container, state or pid file", { timeout: 60_000 }, async () => {
    const pidFile = join(bundle.dir, "failed.pid");
    const failing: Launcher = { launch: async () => Promise.reject(new Error("no keeper")) };
    await assert.rejects(
      createContainer(store, {
        id,
        bundle: bundle.dir,
        pidFile,
        stdio: [devNull, devNull, devNull],
        launcher: failing,
      }),
      /starting nsexec: no keeper/,
    );
    assert.deepEqual(readdirSync(root), []);
    assert.ok(!existsSync(pidFile));
  });
});
