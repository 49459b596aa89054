import assert from "node:assert/strict";
import { test } from "node:test";
import { allCapabilities, DEFAULT_CAPABILITIES } from "../containers/spec/capabilities.ts";
import { decodeExecConfig, decodeExecStart } from "./decode.ts";
import { execProcess, heldCapabilities } from "./process.ts";
import { type ExecRecord, inspectExec } from "./record.ts";
import { ExecStore } from "./store.ts";
import { readOnlyView } from "./user.ts";

test("decodeExecConfig: docker CLI's body, names in any case, null as zero, a Cmd string", () => {
  const c = decodeExecConfig({
    user: "nobody",
    Tty: true,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: null,
    Env: ["A=1"],
    WorkingDir: "/tmp",
    ConsoleSize: [24, 80],
    Cmd: "sh",
  });
  assert.deepEqual(c, {
    User: "nobody",
    Privileged: false,
    Tty: true,
    ConsoleSize: [24, 80],
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: false,
    DetachKeys: "",
    Env: ["A=1"],
    WorkingDir: "/tmp",
    Cmd: ["sh"],
  });
  assert.deepEqual(decodeExecConfig({ Cmd: ["x"], ConsoleSize: [5] }).ConsoleSize, [5, 0]);
});

test("decodeExecConfig: hostile bodies are 400s that say what is wrong", () => {
  const bad: [unknown, RegExp][] = [
    [undefined, /No exec command specified/],
    [[], /cannot unmarshal array into Go struct field ExecConfig/],
    ["x", /cannot unmarshal string/],
    [{ Cmd: [] }, /No exec command specified/],
    [{ Cmd: ["x"], Privileged: 1 }, /ExecConfig.Privileged of type bool/],
    [{ Cmd: ["x"], Env: [1] }, /ExecConfig.Env of type string/],
    [{ Cmd: ["x"], ConsoleSize: [1, -1] }, /ExecConfig.ConsoleSize of type uint/],
    [{ Cmd: ["x"], ConsoleSize: [1, 70_000] }, /ExecConfig.ConsoleSize of type uint/],
    [{ Cmd: ["x"], ConsoleSize: {} }, /ExecConfig.ConsoleSize of type \[2\]uint/],
    [{ Cmd: ["x"], User: "a\0b" }, /NUL/],
    [{ Cmd: ["x".repeat(131_073)] }, /longer than 131072 bytes/],
    [{ Cmd: ["x"], Env: Array(30_001).fill("A=1") }, /more than 30000 entries/],
  ];
  for (const [body, re] of bad) {
    assert.throws(() => decodeExecConfig(body), re, JSON.stringify(body)?.slice(0, 60));
  }
});

test("decodeExecStart: defaults for an empty body, wrong types refused", () => {
  assert.deepEqual(decodeExecStart(undefined), { Detach: false, Tty: false, ConsoleSize: undefined });
  assert.deepEqual(decodeExecStart({ detach: true, tty: true, ConsoleSize: [3, 4] }), {
    Detach: true,
    Tty: true,
    ConsoleSize: [3, 4],
  });
  assert.throws(() => decodeExecStart({ Detach: "yes" }), /ExecStartCheck.Detach of type bool/);
});

const base = {
  user: { uid: 0, gid: 0, additionalGids: [0, 10] },
  args: ["sleep", "600"],
  env: ["PATH=/bin"],
  cwd: "/work",
  capabilities: { bounding: [...DEFAULT_CAPABILITIES], effective: [...DEFAULT_CAPABILITIES] },
  rlimits: [{ type: "RLIMIT_NOFILE", soft: 10, hard: 20 }],
  noNewPrivileges: true,
  terminal: false,
};

test("execProcess: the container's process with the exec's argv, env, cwd, terminal laid over it", () => {
  const exec = decodeExecConfig({ Cmd: ["sh", "-c", "id"], Env: ["FOO=bar", "FROM_RUN"], Tty: true });
  const p = execProcess({
    base,
    exec,
    containerEnv: ["FROM_RUN=1", "KEEP=2"],
    hostname: "abc",
    user: undefined,
    allCapabilities: allCapabilities(40),
    consoleSize: [24, 80],
  });
  assert.deepEqual(p.args, ["sh", "-c", "id"]);
  assert.deepEqual(p.env, [
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOSTNAME=abc",
    "TERM=xterm",
    "KEEP=2",
    "FOO=bar",
  ]);
  assert.equal(p.cwd, "/work");
  assert.equal(p.terminal, true);
  assert.deepEqual(p.consoleSize, { height: 24, width: 80 });
  assert.deepEqual(p.user, base.user);
  assert.deepEqual(p.capabilities?.effective, [...DEFAULT_CAPABILITIES]);
  assert.deepEqual(p.rlimits, base.rlimits);
  assert.equal(p.noNewPrivileges, true);
});

test("execProcess: a user of its own keeps the bounding set only; privileged gives every capability", () => {
  const exec = decodeExecConfig({ Cmd: ["id"], WorkingDir: "/tmp", Privileged: true });
  const all = allCapabilities(40);
  const root = execProcess({
    base,
    exec,
    containerEnv: [],
    hostname: "h",
    user: undefined,
    allCapabilities: all,
    consoleSize: undefined,
  });
  assert.deepEqual(root.capabilities, { bounding: all, effective: all, permitted: all });
  assert.equal(root.cwd, "/tmp");
  assert.equal(root.terminal, undefined);
  const user = execProcess({
    base,
    exec: decodeExecConfig({ Cmd: ["id"] }),
    containerEnv: [],
    hostname: "h",
    user: { uid: 1000, gid: 1000, additionalGids: [1000, 10], home: "/home/user" },
    allCapabilities: all,
    consoleSize: undefined,
  });
  assert.deepEqual(user.user, { uid: 1000, gid: 1000, additionalGids: [1000, 10] });
  assert.deepEqual(user.capabilities, { bounding: [...DEFAULT_CAPABILITIES] });
  // A base that is not a process (a damaged spec) gives root in / with no capabilities.
  const none = execProcess({
    base: "junk",
    exec: decodeExecConfig({ Cmd: ["id"] }),
    containerEnv: [],
    hostname: "h",
    user: undefined,
    allCapabilities: all,
    consoleSize: undefined,
  });
  assert.deepEqual(none.user, { uid: 0, gid: 0 });
  assert.equal(none.cwd, "/");
  assert.deepEqual(none.capabilities?.bounding, []);
});

test("heldCapabilities: the kernel's capabilities the daemon's bounding set holds", () => {
  const all = allCapabilities(40);
  assert.equal(heldCapabilities(all, "1ffffffffff").length, 41);
  const held = heldCapabilities(all, "1fffeffffff");
  assert.equal(held.length, 40);
  assert.ok(!held.includes("CAP_SYS_RESOURCE"));
  assert.deepEqual(heldCapabilities(all, undefined), all);
  assert.deepEqual(heldCapabilities(all, "zz"), all);
});

test("readOnlyView: the upper directory becomes the top lower one; one layer alone is bound", () => {
  assert.deepEqual(
    readOnlyView([
      { type: "overlay", source: "overlay", options: ["index=off", "workdir=/w", "upperdir=/u", "lowerdir=/l1:/l2"] },
    ]),
    [{ type: "overlay", source: "overlay", options: ["index=off", "lowerdir=/u:/l1:/l2", "ro"] }],
  );
  assert.deepEqual(readOnlyView([{ type: "overlay", source: "overlay", options: ["workdir=/w", "upperdir=/u"] }]), [
    { type: "bind", source: "/u", options: ["rbind", "ro"] },
  ]);
  assert.deepEqual(readOnlyView([{ type: "bind", source: "/s", options: ["rbind", "rw"] }]), [
    { type: "bind", source: "/s", options: ["rbind", "ro"] },
  ]);
});

const rec = (id: string, container = "c1", over: Partial<ExecRecord> = {}): ExecRecord => ({
  ID: id,
  ContainerID: container,
  config: decodeExecConfig({ Cmd: ["sh", "-c", "exit 5"], AttachStdout: true }),
  started: false,
  Running: false,
  ExitCode: null,
  Pid: 0,
  ...over,
});

test("inspectExec: dockerd's shape; user only when set; detach keys as Go writes bytes", () => {
  const r = rec("e1", "c1", { Running: true, Pid: 42 });
  r.config.DetachKeys = "ctrl-p,ctrl-q";
  assert.deepEqual(inspectExec(r), {
    ID: "e1",
    Running: true,
    ExitCode: null,
    ProcessConfig: { tty: false, entrypoint: "sh", arguments: ["-c", "exit 5"], privileged: false },
    OpenStdin: false,
    OpenStderr: false,
    OpenStdout: true,
    CanRemove: false,
    ContainerID: "c1",
    DetachKeys: "EBE=",
    Pid: 42,
  });
  r.config.User = "nobody";
  r.config.DetachKeys = "";
  assert.equal((inspectExec(r).ProcessConfig as { user: string }).user, "nobody");
  assert.equal(inspectExec(r).DetachKeys, "");
});

test("ExecStore: bounded per container (oldest finished dropped, then oldest never started), gone with it", () => {
  const s = new ExecStore(3);
  s.add(rec("a", "c1", { started: true, Running: true }));
  s.add(rec("b", "c1", { started: true, ExitCode: 0 }));
  s.add(rec("c", "c1"));
  s.add(rec("x", "c2"));
  assert.deepEqual(
    s.add(rec("d", "c1")).map((r) => r.ID),
    ["b"],
  );
  assert.deepEqual(
    s.add(rec("e", "c1")).map((r) => r.ID),
    ["c"],
  );
  s.get("d").started = true;
  s.get("e").started = true;
  assert.throws(() => s.add(rec("f", "c1")), /has 3 exec instances running/);
  assert.throws(() => s.get("b"), /No such exec instance: b/);
  assert.deepEqual(
    s.removeContainer("c1").map((r) => r.ID),
    ["a", "d", "e"],
  );
  assert.equal(s.size, 1);
  assert.throws(() => s.get("a"), /No such exec instance: a/);
  assert.equal(s.get("x").ContainerID, "c2");
});
