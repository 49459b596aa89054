import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { claimPidfile, isLiveProgram, readPid, releasePidfile } from "./pidfile.ts";

const dir = mkdtempSync(join(tmpdir(), "berth-pidfile-"));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

/** A live process whose argv[0] reads `name` (what /proc/PID/cmdline shows). */
function liveProcess(name: string): number {
  const c = spawn("sleep", ["60"], { argv0: name, stdio: "ignore" });
  children.push(c);
  return c.pid!;
}

test("a pid file naming a live berthd stops the start", () => {
  const path = join(dir, "live.pid");
  const pid = liveProcess("/usr/bin/berthd");
  writeFileSync(path, `${pid}\n`);
  assert.ok(isLiveProgram(pid, "berthd"));
  assert.throws(() => claimPidfile(path), {
    kind: "failed-precondition",
    message: new RegExp(`^pid file found, ensure berthd is not running or delete ${path}`),
  });
  assert.equal(readPid(path), pid);
});

test("a berthd or berth-containerd run by node with V8 flags before its script is still itself", () => {
  // The commands' shebangs put node's flags first (scripts/build.mjs): argv is node, flags, script.
  const script = join(dir, "berth-containerd.mjs");
  writeFileSync(script, "setInterval(() => {}, 1000);\n");
  const c = spawn(process.execPath, ["--max-semi-space-size=1", "--single-threaded", script, "--root", "/x"], {
    stdio: "ignore",
  });
  children.push(c);
  const deadline = Date.now() + 10_000;
  while (!readFileSync(`/proc/${c.pid}/cmdline`, "utf8").includes(script) && Date.now() < deadline) {}
  assert.ok(isLiveProgram(c.pid!, "berth-containerd"));
  assert.equal(isLiveProgram(c.pid!, "berthd"), false);
  // An argument past the script that names the program is not its script.
  assert.equal(isLiveProgram(c.pid!, "x"), false);
});

test("a stale pid file (dead pid, or a pid another program took) is replaced, and removed at exit", () => {
  const path = join(dir, "stale.pid");
  writeFileSync(path, `${liveProcess("not-berthd")}\n`);
  claimPidfile(path);
  assert.equal(readFileSync(path, "utf8"), `${process.pid}\n`);
  releasePidfile(path);
  assert.equal(existsSync(path), false);
  writeFileSync(path, "4194303\n");
  claimPidfile(path);
  assert.equal(readPid(path), process.pid);
  // A file that names another process now (a second daemon took it over) is not removed.
  writeFileSync(path, "1\n");
  releasePidfile(path);
  assert.equal(existsSync(path), true);
});

test("pid files with garbage name no pid", () => {
  const path = join(dir, "garbage.pid");
  for (const text of ["", "abc", "-1", "0", "12 34", "99999999999", "1".repeat(10_000)]) {
    writeFileSync(path, text);
    assert.equal(readPid(path), undefined, text.slice(0, 20));
  }
  assert.equal(readPid(join(dir, "absent.pid")), undefined);
});
