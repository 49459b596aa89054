// Failures of the container's init must reach whoever started it. Two used to be lost: an init
// that died of a signal during setup (a crash) looked like one waiting on the exec fifo, so
// `create` "succeeded" (or the CLI exited with its create pending), and an error after the exec
// fifo (E2BIG at execve) went to a sync socket nobody reads any more. runc prints the latter on the
// process's stderr and the container's exit status reports it; so does berth-runc.
import assert from "node:assert/strict";
import { readdirSync, readlinkSync } from "node:fs";
import { after, before, test } from "node:test";
import { makeBundle, makeTempDir } from "../fixtures/busybox.ts";
import { Runtime, uniqueId } from "../helpers/runtime.ts";
import { REFERENCE_BIN, SUBJECT_BIN } from "../integration/conformance/harness.ts";

let rt: Runtime;
let ref: Runtime;
before(async () => {
  rt = await Runtime.create(SUBJECT_BIN, "setup-errors");
  ref = await Runtime.create(REFERENCE_BIN, "setup-errors-ref");
});
after(async () => {
  await rt.destroy();
  await ref.destroy();
});

/** One env entry past execve's per-string limit (128 KiB): execve fails with E2BIG. */
const tooBig = `BIG=${"x".repeat(200_000)}`;

test("an execve error after start reaches the container's stderr, and run exits 1 (as runc)", async (t) => {
  const b = await makeBundle({
    args: ["sh", "-c", "echo never"],
    spec: (s) => {
      s.process!.env!.push(tooBig);
    },
  });
  t.after(() => b.cleanup());
  const r = await rt.run(uniqueId("e2big-run"), b.dir);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /exec \/bin\/sh: argument list too long/i);
});

test("create + start: the execve error is on the stderr the container was given", async (t) => {
  const b = await makeBundle({
    args: ["sh", "-c", "echo never"],
    spec: (s) => {
      s.process!.env!.push(tooBig);
    },
  });
  t.after(() => b.cleanup());
  const id = uniqueId("e2big");
  t.after(() => rt.delete(id, { force: true }));
  const c = await rt.createContainer(id, b.dir);
  assert.equal(c.result.code, 0, c.result.stderr);
  assert.equal((await rt.start(id)).code, 0); // runc's start also succeeds: the fifo was read
  await rt.waitStatus(id, "stopped");
  const out = await c.output.read();
  assert.match(out.stderr, /exec \/bin\/sh: argument list too long/i);
});

test("an init killed during setup fails create with a message and leaves nothing", async (t) => {
  // Without a pid namespace a createContainer hook (a child of the init) can kill the init: the
  // same as the init crashing in the middle of its setup.
  const b = await makeBundle({
    args: ["true"],
    spec: (s) => {
      s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== "pid");
      s.hooks = { createContainer: [{ path: "/bin/sh", args: ["sh", "-c", "kill -9 $PPID"] }] };
    },
  });
  t.after(() => b.cleanup());
  const cwd = await makeTempDir("berth-setup-errors-cwd-");
  const id = uniqueId("killed");
  const c = await rt.createContainer(id, b.dir, { cwd, timeoutMs: 20_000 });
  assert.equal(c.result.timedOut, false);
  assert.equal(c.result.code, 1, c.result.stderr);
  assert.match(c.result.stderr, /container init: killed by signal 9/);
  assert.deepEqual(await rt.rootEntries(), []);
  // No process of this create (they share its working directory) is left.
  const left = readdirSync("/proc").filter((p) => {
    try {
      return /^\d+$/.test(p) && readlinkSync(`/proc/${p}/cwd`) === cwd;
    } catch {
      return false;
    }
  });
  assert.deepEqual(left, []);
});

// Callers read the errno's words: docker's CLI exits 126 only for "permission denied" and 127 for
// "no such file or directory", both in Go's lower-case spelling, which runc prints.
for (const [args, words] of [
  [["/etc"], 'exec: "/etc": permission denied'],
  [["/no/such"], 'exec: "/no/such": stat /no/such: no such file or directory'],
] as const) {
  test(`run ${JSON.stringify(args)}: the errno in Go's words, as runc prints it`, async (t) => {
    const b = await makeBundle({ args: [...args] });
    t.after(() => b.cleanup());
    const ours = await rt.run(uniqueId("errno"), b.dir);
    const theirs = await ref.run(uniqueId("errno-ref"), b.dir);
    // runc's logrus line escapes the quotes.
    assert.ok(theirs.stderr.replaceAll('\\"', '"').includes(words), theirs.stderr);
    assert.equal(ours.code, theirs.code, ours.stderr);
    assert.ok(ours.stderr.includes(words.replace(/stat \/no\/such: /, "")), ours.stderr);
  });
}
