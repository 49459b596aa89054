// Hole: config.json (and exec's process.json) was read whole, whatever it was: a FIFO in its
// place hung the runtime (in berth-shim, its event loop), and a document of any size was read
// into memory and decoded. runc has no cap; berth-runc refuses a file that is not a regular file
// or is larger than 16 MiB (a real config is a few KiB), with a clear error, before anything is
// created.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type Bundle, makeBundle } from "../fixtures/busybox.ts";
import { Runtime, uniqueId } from "../helpers/runtime.ts";
import { SUBJECT_BIN } from "../integration/conformance/harness.ts";

const MiB = 1024 * 1024;
const TIMEOUT_MS = 10_000;

let rt: Runtime;
before(async () => {
  rt = await Runtime.create(SUBJECT_BIN, "config-size");
});
after(async () => {
  await rt.destroy();
});

async function assertRefused(b: Bundle, message: RegExp): Promise<void> {
  await rt.runRefused(uniqueId("cfg"), b.dir, message, TIMEOUT_MS);
}

test("a config.json larger than 16 MiB is refused", async (t) => {
  const b = await makeBundle({ args: ["echo", "ran"] });
  t.after(() => b.cleanup());
  // Valid JSON, valid spec: only its size is wrong.
  b.spec.annotations = { "org.example.padding": "x".repeat(16 * MiB) };
  await b.writeSpec();
  await assertRefused(b, /config\.json is \d+ bytes, more than the 16 MiB a JSON specification file may have/);
});

test("a config.json of nearly 16 MiB is still read", async (t) => {
  const b = await makeBundle({ args: ["echo", "ran"] });
  t.after(() => b.cleanup());
  b.spec.annotations = { "org.example.padding": "x".repeat(15 * MiB) };
  await b.writeSpec();
  const r = await rt.run(uniqueId("cfg-big"), b.dir, { timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "ran\n");
});

test("a FIFO as config.json is refused without blocking", async (t) => {
  const b = await makeBundle({ args: ["echo", "ran"] });
  t.after(() => b.cleanup());
  await rm(b.configPath);
  execFileSync("mkfifo", [b.configPath]);
  await assertRefused(b, /config\.json is not a regular file/);
});

test("exec: a FIFO or an oversized file as process.json is refused without blocking", async (t) => {
  const b = await makeBundle({ args: ["sleep", "30"] });
  t.after(() => b.cleanup());
  const id = uniqueId("cfg-exec");
  const c = await rt.createContainer(id, b.dir);
  assert.equal(c.result.code, 0, c.result.stderr);
  t.after(() => rt.delete(id, { force: true }));
  assert.equal((await rt.start(id)).code, 0);

  const fifo = join(b.dir, "process.fifo");
  execFileSync("mkfifo", [fifo]);
  let r = await rt.exec(["exec", "--process", fifo, id], { timeoutMs: TIMEOUT_MS });
  assert.equal(r.timedOut, false, "exec hung reading process.json");
  assert.equal(r.code, 255, r.stderr);
  assert.match(r.stderr, /process\.fifo is not a regular file/);

  const big = join(b.dir, "process.json");
  await writeFile(
    big,
    JSON.stringify({ user: { uid: 0, gid: 0 }, cwd: "/", args: ["echo", "ran"], env: ["X=".padEnd(17 * MiB, "x")] }),
  );
  r = await rt.exec(["exec", "--process", big, id], { timeoutMs: TIMEOUT_MS });
  assert.equal(r.stdout, "", `the process ran: ${r.stdout.slice(0, 80)}`);
  assert.equal(r.code, 255, r.stderr);
  assert.match(r.stderr, /process\.json is \d+ bytes, more than the 16 MiB/);
});
