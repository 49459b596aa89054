// Hole: process.apparmorProfile, process.selinuxLabel and linux.mountLabel were silently ignored,
// so a container that asked to be confined ran unconfined. runc fails when it cannot apply them;
// on a host without the LSM berth-runc refuses them too, naming the field, before anything is
// created. (On a host with AppArmor the profile is applied instead; SELinux labels are refused.)
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Spec } from "../../src/runc/config/types.ts";
import { makeBundle } from "../fixtures/busybox.ts";
import { Runtime, uniqueId } from "../helpers/runtime.ts";
import { SUBJECT_BIN } from "../integration/conformance/harness.ts";

function hostHasAppArmor(): boolean {
  try {
    return readFileSync("/sys/module/apparmor/parameters/enabled", "utf8").startsWith("Y");
  } catch {
    return false;
  }
}
const APPARMOR = hostHasAppArmor();
const SELINUX = existsSync("/sys/fs/selinux/enforce");
const NO_APPARMOR = APPARMOR ? "the host has AppArmor: the profile is applied, not refused" : false;
const NO_SELINUX = SELINUX ? "the host has SELinux" : false;

let rt: Runtime;
before(async () => {
  rt = await Runtime.create(SUBJECT_BIN, "lsm");
});
after(async () => {
  await rt.destroy();
});

async function assertRefused(edit: (s: Spec) => void, message: RegExp): Promise<void> {
  // Before the fix: exit 0 and "ran unconfined".
  const b = await makeBundle({ args: ["echo", "ran unconfined"], spec: edit });
  try {
    await rt.runRefused(uniqueId("lsm"), b.dir, message);
  } finally {
    await b.cleanup();
  }
}

test("process.apparmorProfile without AppArmor is refused", { skip: NO_APPARMOR }, async () => {
  await assertRefused((s) => {
    s.process!.apparmorProfile = "berth-test-profile";
  }, /process\.apparmorProfile: apparmor: config provided but apparmor not supported/);
});

test("process.selinuxLabel without SELinux is refused", { skip: NO_SELINUX }, async () => {
  await assertRefused((s) => {
    s.process!.selinuxLabel = "system_u:system_r:container_t:s0:c1,c2";
  }, /process\.selinuxLabel: selinux label is specified in config, but selinux is disabled or not supported/);
});

test("linux.mountLabel without SELinux is refused", { skip: NO_SELINUX }, async () => {
  await assertRefused((s) => {
    s.linux!.mountLabel = "system_u:object_r:container_file_t:s0:c1,c2";
  }, /linux\.mountLabel: .*selinux is disabled or not supported/);
});

test("empty labels mean unset and run", async (t) => {
  const b = await makeBundle({
    args: ["echo", "ok"],
    spec: (s) => {
      s.process!.apparmorProfile = "";
      s.process!.selinuxLabel = "";
      s.linux!.mountLabel = "";
    },
  });
  t.after(() => b.cleanup());
  const r = await rt.run(uniqueId("lsm-empty"), b.dir);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "ok\n");
});

test("exec: --apparmor, --process-label and a process.json with a profile are refused", async (t) => {
  const b = await makeBundle({ args: ["sleep", "30"] });
  t.after(() => b.cleanup());
  const id = uniqueId("lsm-exec");
  const c = await rt.createContainer(id, b.dir);
  assert.equal(c.result.code, 0, c.result.stderr);
  t.after(() => rt.delete(id, { force: true }));
  assert.equal((await rt.start(id)).code, 0);

  const cases: [string[], RegExp, string | false][] = [
    [["--apparmor", "berth-test-profile"], /apparmor not supported/, NO_APPARMOR],
    [["--process-label", "system_u:system_r:container_t:s0"], /selinux is disabled or not supported/, NO_SELINUX],
  ];
  for (const [flags, message, skip] of cases) {
    if (skip) continue;
    const r = await rt.exec(["exec", ...flags, id, "echo", "ran unconfined"]);
    assert.equal(r.stdout, "", `${flags[0]}: the process ran: ${r.stdout}`);
    assert.equal(r.code, 255, r.stderr);
    assert.match(r.stderr, message);
  }
  if (!APPARMOR) {
    const processJson = join(b.dir, "process.json");
    await writeFile(
      processJson,
      JSON.stringify({
        user: { uid: 0, gid: 0 },
        cwd: "/",
        args: ["echo", "ran unconfined"],
        apparmorProfile: "berth-test-profile",
      }),
    );
    const r = await rt.exec(["exec", "--process", processJson, id]);
    assert.equal(r.stdout, "", `the process ran: ${r.stdout}`);
    assert.equal(r.code, 255, r.stderr);
    assert.match(r.stderr, /process\.apparmorProfile: apparmor: config provided but apparmor not supported/);
  }
});
