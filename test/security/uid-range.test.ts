// Hole: a uid or gid of 4294967295 ran the container as root. setresuid(2)/setresgid(2) read
// (uid_t)-1 as "leave unchanged", so the init kept uid 0 and the whole bounding set. runc refuses
// every id outside 0-2147483647 ("uids and gids must be in range 0-2147483647", exit 1); so must
// berth-runc, for every id the spec carries, before anything is created.
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Spec, User } from "../../src/runc/config/types.ts";
import { makeBundle } from "../fixtures/busybox.ts";
import { Runtime, uniqueId } from "../helpers/runtime.ts";
import { SUBJECT_BIN } from "../integration/conformance/harness.ts";

let rt: Runtime;
before(async () => {
  rt = await Runtime.create(SUBJECT_BIN, "uid-range");
});
after(async () => {
  await rt.destroy();
});

/** Runs `id` with the spec edit; the run must be refused naming `field`, leaving nothing behind. */
async function assertRefused(edit: (s: Spec) => void, field: RegExp): Promise<void> {
  // Before the fix the container ran: stdout showed "uid=0(root) gid=0(root)" and a full CapEff.
  const b = await makeBundle({ args: ["sh", "-c", "id; grep CapEff /proc/self/status"], spec: edit });
  try {
    await rt.runRefused(uniqueId("uid"), b.dir, field);
  } finally {
    await b.cleanup();
  }
}

/** A spec edit that changes process.user. */
const user = (patch: Partial<User>) => (s: Spec) => {
  Object.assign(s.process!.user, patch);
};

const RANGE = /uids and gids must be in range 0-2147483647/;

test("process.user.uid 4294967295 ((uid_t)-1) is refused", async () => {
  await assertRefused(user({ uid: 4294967295 }), /process\.user\.uid/);
  await assertRefused(user({ uid: 4294967295 }), RANGE);
});

test("process.user.uid 2147483648 is refused", async () => {
  await assertRefused(user({ uid: 2147483648 }), /process\.user\.uid: .*0-2147483647/);
});

test("process.user.gid 4294967295 and 2147483648 are refused", async () => {
  await assertRefused(user({ gid: 4294967295 }), /process\.user\.gid: .*0-2147483647/);
  await assertRefused(user({ gid: 2147483648 }), /process\.user\.gid: .*0-2147483647/);
});

test("-1 style values in additionalGids are refused", async () => {
  for (const bad of [4294967295, 2147483648, -1]) {
    await assertRefused((s) => {
      s.process!.user.additionalGids = [10, bad];
    }, /process\.user\.additionalGids\[1\]: .*0-2147483647/);
  }
});

test("id mappings: ids past 4294967294 or a range that wraps are refused", async () => {
  const userns = (s: Spec, uid: { containerID: number; hostID: number; size: number }) => {
    s.linux!.namespaces!.push({ type: "user" });
    s.linux!.uidMappings = [uid];
    s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  };
  await assertRefused(
    (s) => userns(s, { containerID: 0, hostID: 4294967295, size: 1 }),
    /linux\.uidMappings\[0\]\.hostID/,
  );
  await assertRefused(
    (s) => userns(s, { containerID: 4294967295, hostID: 100000, size: 1 }),
    /linux\.uidMappings\[0\]\.containerID/,
  );
  await assertRefused(
    (s) => userns(s, { containerID: 0, hostID: 4294967000, size: 65536 }),
    /linux\.uidMappings\[0\]\.size: .*past/,
  );
  await assertRefused(
    (s) => userns(s, { containerID: 4294967000, hostID: 100000, size: 65536 }),
    /linux\.uidMappings\[0\]\.size: .*past/,
  );
});

test("a device's uid or gid of 4294967295 is refused", async () => {
  const dev = { type: "c" as const, path: "/dev/berth-null", major: 1, minor: 3 };
  await assertRefused((s) => {
    s.linux!.devices = [{ ...dev, uid: 4294967295 }];
  }, /linux\.devices\[0\]\.uid: .*0-2147483647/);
  await assertRefused((s) => {
    s.linux!.devices = [{ ...dev, gid: 4294967295 }];
  }, /linux\.devices\[0\]\.gid: .*0-2147483647/);
});

test("the largest valid uid, 2147483647, runs as that uid with no capabilities", async (t) => {
  const b = await makeBundle({
    args: ["sh", "-c", "id -u; id -g; grep CapEff /proc/self/status"],
    spec: (s) => {
      s.process!.user = { uid: 2147483647, gid: 2147483647 };
    },
  });
  t.after(() => b.cleanup());
  const r = await rt.run(uniqueId("uidmax"), b.dir);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "2147483647\n2147483647\nCapEff:\t0000000000000000\n");
});

test("exec: --user 4294967295, -g 4294967295 and a process.json with uid 4294967295 are refused", async (t) => {
  const b = await makeBundle({ args: ["sleep", "30"] });
  t.after(() => b.cleanup());
  const id = uniqueId("uidexec");
  const c = await rt.createContainer(id, b.dir);
  assert.equal(c.result.code, 0, c.result.stderr);
  t.after(() => rt.delete(id, { force: true }));
  assert.equal((await rt.start(id)).code, 0);

  const probe = ["sh", "-c", "id; grep CapEff /proc/self/status"];
  for (const flags of [
    ["--user", "4294967295"],
    ["--user", "0:4294967295"],
    ["--user", "2147483648"],
    ["-g", "4294967295"],
  ]) {
    const r = await rt.exec(["exec", ...flags, id, ...probe]);
    // runc: a failed exec exits 255.
    assert.equal(r.stdout, "", `${flags.join(" ")}: the process ran: ${r.stdout}`);
    assert.equal(r.code, 255, r.stderr);
    assert.match(r.stderr, RANGE, flags.join(" "));
  }

  const processJson = join(b.dir, "process.json");
  await writeFile(
    processJson,
    JSON.stringify({ user: { uid: 4294967295, gid: 0 }, cwd: "/", args: probe, env: ["PATH=/bin"] }),
  );
  const r = await rt.exec(["exec", "--process", processJson, id]);
  assert.equal(r.stdout, "", `the process ran: ${r.stdout}`);
  assert.equal(r.code, 255, r.stderr);
  assert.match(r.stderr, /process\.user\.uid: .*0-2147483647/);
});
