import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { InvalidArgumentError } from "../common/errors.ts";
import { parseFlags } from "../common/flags.ts";
import {
  Bundle,
  deleteArgs,
  exitFileName,
  idleExitMsOf,
  pidFileName,
  processName,
  readShimEnv,
  SHIM_FLAGS,
  shimEnv,
  startArgs,
  TASK_BUNDLES,
  taskBundle,
  validateExecId,
} from "./bundle.ts";

describe("the bundle's layout", () => {
  test("every file is named from the bundle directory", () => {
    const b = new Bundle("/state/t/ns/c1");
    assert.equal(b.config, "/state/t/ns/c1/config.json");
    assert.equal(b.rootfs, "/state/t/ns/c1/rootfs");
    assert.equal(b.address, "/state/t/ns/c1/address");
    assert.equal(b.shimBinary, "/state/t/ns/c1/shim-binary");
    assert.equal(b.shimLog, "/state/t/ns/c1/log");
    assert.equal(b.runtimeOptions, "/state/t/ns/c1/runtime.json");
    assert.equal(b.runtimeLog, "/state/t/ns/c1/log.json");
    assert.equal(b.pidFile(""), "/state/t/ns/c1/init.pid");
    assert.equal(b.pidFile("e1"), "/state/t/ns/c1/exec-e1.pid");
    assert.equal(b.execSpec("e1"), "/state/t/ns/c1/exec-e1.json");
    assert.equal(b.exitFile(""), "/state/t/ns/c1/init.exit");
    assert.equal(b.exitFile("e1"), "/state/t/ns/c1/exec-e1.exit");
    assert.equal(b.keeper, "/state/t/ns/c1/keeper");
  });

  test("the keeper's names: init, exec-<id> (an exec may be called init), files after them", () => {
    assert.equal(processName(""), "init");
    assert.equal(processName("init"), "exec-init");
    assert.equal(pidFileName("e1"), "exec-e1.pid");
    assert.equal(exitFileName(""), "init.exit");
    assert.throws(() => processName("../x"), InvalidArgumentError);
  });

  test("a task's bundle is <state>/io.containerd.runtime.v2.task/<namespace>/<id>", () => {
    assert.equal(TASK_BUNDLES, "io.containerd.runtime.v2.task");
    assert.equal(taskBundle("/run/s", "default", "c1").dir, "/run/s/io.containerd.runtime.v2.task/default/c1");
  });

  test("ids that would leave the bundle (or the namespace's directory) are refused", () => {
    for (const bad of ["", ".", "..", "../x", "a/b", "/abs", "a\0b"]) {
      assert.throws(() => taskBundle("/run/s", bad, "c1"), InvalidArgumentError, `namespace ${JSON.stringify(bad)}`);
      assert.throws(() => taskBundle("/run/s", "ns", bad), InvalidArgumentError, `id ${JSON.stringify(bad)}`);
      assert.throws(() => new Bundle("/b").pidFile(bad === "" ? "-x" : bad), InvalidArgumentError);
      assert.throws(() => new Bundle("/b").execSpec(bad === "" ? "x-" : bad), InvalidArgumentError);
    }
    assert.throws(() => validateExecId("a".repeat(77)), InvalidArgumentError);
    assert.equal(validateExecId("exec-1.a_b"), "exec-1.a_b");
  });

  test("the address is written whole, 0644, and read back trimmed", () => {
    const dir = mkdtempSync(join(tmpdir(), "berth-bundle-"));
    try {
      const b = new Bundle(dir);
      assert.throws(() => b.readAddress(), /ENOENT/);
      b.writeAddress("unix:///run/berth/s/abc");
      assert.equal(b.readAddress(), "unix:///run/berth/s/abc");
      assert.equal(statSync(b.address).mode & 0o777, 0o644);
      assert.deepEqual(readdirSync(dir), ["address"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the shim launch contract", () => {
  const who = { namespace: "ns", id: "c1", address: "/run/d.sock", publishBinary: "/usr/bin/node" };

  test("start and delete arguments parse back with the shim's own flags", () => {
    const start = parseFlags(startArgs(who), SHIM_FLAGS);
    assert.deepEqual(start.positionals, ["start"]);
    assert.equal(start.values.get("namespace"), "ns");
    assert.equal(start.values.get("id"), "c1");
    assert.equal(start.values.get("address"), "/run/d.sock");
    assert.equal(start.values.get("publish-binary"), "/usr/bin/node");
    const del = parseFlags(deleteArgs(who, "/b"), SHIM_FLAGS);
    assert.deepEqual(del.positionals, ["delete"]);
    assert.equal(del.values.get("bundle"), "/b");
  });

  test("the environment a daemon gives is the one a shim reads", () => {
    const env = shimEnv(
      { PATH: "/bin" },
      { ttrpcAddress: "/t", grpcAddress: "/g", namespace: "ns", runtimeRoot: "/r", perContainer: true },
    );
    assert.deepEqual(env, {
      PATH: "/bin",
      TTRPC_ADDRESS: "/t",
      GRPC_ADDRESS: "/g",
      NAMESPACE: "ns",
      BERTH_SHIM_RUNTIME_ROOT: "/r",
      BERTH_SHIM_PER_CONTAINER: "1",
    });
    const read = readShimEnv({ ...env, BERTH_SHIM_GROUP: "g1" });
    assert.equal(read.ttrpcAddress, "/t");
    assert.equal(read.runtimeRoot, "/r");
    assert.equal(read.group, "g1");
    assert.equal(read.runtime, undefined);
    assert.equal(read.perContainer, true);
    assert.equal(readShimEnv({}).perContainer, false);
    assert.equal(readShimEnv({}).runtimeRoot, undefined);
    // A spare has no namespace yet: none is passed.
    assert.equal("NAMESPACE" in shimEnv({}, { ttrpcAddress: "/t", grpcAddress: "/g" }), false);
  });

  test("an idle shared shim's own exit: set by the daemon, read bounded, hostile values are no setting", () => {
    const env = shimEnv(
      { BERTH_SHIM_IDLE_EXIT_MS: "5" },
      { ttrpcAddress: "/t", grpcAddress: "/g", idleExitMs: 30_000 },
    );
    assert.equal(env.BERTH_SHIM_IDLE_EXIT_MS, "30000");
    assert.equal(readShimEnv(env).idleExitMs, 30_000);
    // A daemon that sets none passes none on, whatever its own environment holds.
    assert.equal(
      "BERTH_SHIM_IDLE_EXIT_MS" in shimEnv({ BERTH_SHIM_IDLE_EXIT_MS: "5" }, { ttrpcAddress: "/t", grpcAddress: "/g" }),
      false,
    );
    assert.equal(readShimEnv({}).idleExitMs, undefined);
    for (const bad of ["", "-1", "1e3", "0x10", " 10", "3600001", "99999999999999999999", "10ms"]) {
      assert.equal(idleExitMsOf(bad), undefined, bad);
    }
    assert.equal(idleExitMsOf("0"), 0);
    assert.equal(idleExitMsOf("3600000"), 3_600_000);
  });
});
