import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { InvalidArgumentError } from "../common/errors.ts";
import { bundlesNaming } from "./adopt.ts";
import { Bundle } from "./bundle.ts";
import type { ShimRuntime } from "./runtime.ts";
import { ShimProcess, ShimTask } from "./task.ts";
import {
  parseExitFile,
  parseTaskRecord,
  type RuntimeChoice,
  readTaskRecord,
  recordOf,
  writeTaskRecord,
} from "./task-record.ts";

const runtime: RuntimeChoice = {
  linked: true,
  binary: "/usr/bin/berth-runc",
  root: "/run/berth/runc/ns",
  noPivotRoot: false,
  noNewKeyring: true,
  systemdCgroup: false,
};
const stdio = { stdin: "/run/fifo/in", stdout: "file:///var/log/c1.log", stderr: "", terminal: false };

function aTask(): ShimTask {
  const init = new ShimProcess("c1", "", stdio);
  init.pid = 4242;
  init.state = "running";
  const task = new ShimTask("c1", "ns", "/state/ns/c1", {} as ShimRuntime, init);
  task.rootfsMounted = "/state/ns/c1/rootfs";
  task.rootfsMounts = 1;
  task.oomKills = 2;
  const done = new ShimProcess("c1", "e1", { ...stdio, terminal: true }, '{"args":["true"]}');
  done.pid = 4300;
  done.setExited(3, new Date(1_700_000_000_123));
  task.execs.set("e1", done);
  task.execs.set("e2", new ShimProcess("c1", "e2", stdio, '{"args":["sh"]}'));
  return task;
}

describe("task records", () => {
  test("a record reads back as it was written, 0600", () => {
    const dir = mkdtempSync(join(tmpdir(), "berth-record-"));
    try {
      const b = new Bundle(dir);
      const rec = recordOf(aTask(), runtime);
      writeTaskRecord(b, rec);
      assert.equal(statSync(b.taskRecord).mode & 0o777, 0o600);
      const back = readTaskRecord(b);
      const plain = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;
      assert.deepEqual(plain(back), plain(rec));
      assert.equal(back.init.pid, 4242);
      assert.equal(back.init.state, "running");
      assert.equal(back.rootfsMounts, 1);
      assert.deepEqual(back.execs[0]?.exit, { status: 3, at: 1_700_000_000_123 });
      assert.equal(back.execs[1]?.state, "created");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("anything off is refused, naming the field", () => {
    const good = JSON.parse(JSON.stringify(recordOf(aTask(), runtime))) as Record<string, unknown>;
    // biome-ignore lint/suspicious/noExplicitAny: each case breaks one field of a plain JSON object
    type Loose = Record<string, any>;
    const with_ = (f: (r: Loose) => void) => {
      const r = structuredClone(good) as Loose;
      f(r);
      return JSON.stringify(r);
    };
    const cases: [string, string, RegExp][] = [
      ["not JSON", "{", /not JSON/],
      ["an array", "[]", /record: not an object/],
      ["another version", with_((r) => (r.version = 2)), /version/],
      ["no id", with_((r) => (r.id = "")), /id: empty/],
      ["an id with a NUL", with_((r) => (r.id = "a\0b")), /id/],
      ["a long namespace", with_((r) => (r.namespace = "n".repeat(256))), /namespace/],
      ["a runtime flag as a string", with_((r) => (r.runtime.linked = "yes")), /runtime.linked/],
      ["a negative pid", with_((r) => (r.init.pid = -1)), /init.pid/],
      ["a pid past the kernel's", with_((r) => (r.init.pid = 2 ** 22 + 1)), /init.pid/],
      ["a fractional pid", with_((r) => (r.init.pid = 1.5)), /init.pid/],
      ["an unknown state", with_((r) => (r.init.state = "zombie")), /init.state/],
      ["a stopped process without its exit", with_((r) => (r.execs[0].exit = undefined)), /execs\[0\].exit/],
      ["an exit of a running one", with_((r) => (r.init.exit = { status: 0, at: 0 })), /init.exit/],
      ["a status past 255", with_((r) => (r.execs[0].exit.status = 256)), /exit.status/],
      ["an init with an exec id", with_((r) => (r.init.execId = "x")), /init.execId/],
      ["an exec without one", with_((r) => (r.execs[0].execId = "")), /execs\[0\].execId/],
      ["an exec id that leaves the bundle", with_((r) => (r.execs[0].execId = "../x")), /exec id/],
      ["an exec id twice", with_((r) => (r.execs[1].execId = "e1")), /twice/],
      ["too many execs", with_((r) => (r.execs = Array(1024).fill(r.execs[1]))), /execs/],
      ["stdio that is no string", with_((r) => (r.init.stdio.stdout = 1)), /init.stdio.stdout/],
      ["a long stdio path", with_((r) => (r.init.stdio.stdin = "x".repeat(4097))), /init.stdio.stdin/],
      ["a terminal as a string", with_((r) => (r.init.stdio.terminal = "false")), /terminal/],
      ["too many rootfs mounts", with_((r) => (r.rootfsMounts = 1025)), /rootfsMounts/],
    ];
    for (const [what, text, re] of cases) {
      assert.throws(
        () => parseTaskRecord(text),
        (e: unknown) => e instanceof InvalidArgumentError && re.test(e.message),
        what,
      );
    }
  });

  test("exit files: the keeper's format only", () => {
    assert.deepEqual(parseExitFile("123 137 1700000000 5000000\n"), {
      status: 137,
      exitedAt: new Date(1_700_000_000_005),
    });
    for (const bad of ["", "123 137 1700000000 5000000", "0 1 2 3\n", "1 256 2 3\n", "1 2 3 4 5\n", "a b c d\n"]) {
      assert.equal(parseExitFile(bad), undefined, JSON.stringify(bad));
    }
  });

  test("the bundles a shim adopts: a record, and an address naming its socket", () => {
    const ns = mkdtempSync(join(tmpdir(), "berth-ns-"));
    try {
      const make = (id: string, address: string | undefined, record: boolean) => {
        const b = new Bundle(join(ns, id));
        mkdirSync(b.dir);
        if (address !== undefined) b.writeAddress(address);
        if (record) writeFileSync(b.taskRecord, "{}");
        return b.dir;
      };
      const mine = make("c1", "unix:///run/berth/s/abc", true);
      make("c2", "unix:///run/berth/s/other", true);
      make("c3", "unix:///run/berth/s/abc", false); // a task being created: no record yet
      make("c4", undefined, true);
      assert.deepEqual(bundlesNaming(ns, "unix:///run/berth/s/abc"), [mine]);
      assert.deepEqual(bundlesNaming(join(ns, "absent"), "unix:///run/berth/s/abc"), []);
    } finally {
      rmSync(ns, { recursive: true, force: true });
    }
  });
});
