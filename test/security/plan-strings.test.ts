// Strings travel to the native stage (nsexec) as C strings in fixed places: an embedded NUL would cut
// one short, and a string longer than the C side's buffer used to be truncated silently. Either
// way the container would get something other than what config.json says (a shorter argument, a
// device under another name, a connection to another socket). Each is refused, naming the field
// or the path, and nothing is left behind.
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { makeBundle, makeTempDir } from "../fixtures/busybox.ts";
import { Runtime, uniqueId } from "../helpers/runtime.ts";
import { SUBJECT_BIN } from "../integration/conformance/harness.ts";

let rt: Runtime;
before(async () => {
  rt = await Runtime.create(SUBJECT_BIN, "plan-strings");
});
after(async () => {
  await rt.destroy();
});

test("an argument with an embedded NUL is refused, not cut short", async (t) => {
  const b = await makeBundle({ args: ["echo", "visible\0hidden"] });
  t.after(() => b.cleanup());
  const r = await rt.run(uniqueId("nularg"), b.dir);
  assert.equal(r.stdout, "", "the container did not run with a shortened argument");
  assert.equal(r.code, 1);
  assert.match(r.stderr, /process\.args\[1\]: must not contain a NUL byte/);
  assert.deepEqual(await rt.rootEntries(), []);
});

test("an env entry with an embedded NUL is refused", async (t) => {
  const b = await makeBundle({
    args: ["sh", "-c", 'echo "$A"'],
    spec: (s) => {
      s.process!.env!.push("A=visible\0B=smuggled");
    },
  });
  t.after(() => b.cleanup());
  const r = await rt.run(uniqueId("nulenv"), b.dir);
  assert.equal(r.stdout, "");
  assert.equal(r.code, 1);
  assert.match(r.stderr, /process\.env\[\d+\]: must not contain a NUL byte/);
  assert.deepEqual(await rt.rootEntries(), []);
});

test("a hook argument with an embedded NUL is refused", async (t) => {
  const b = await makeBundle({
    args: ["true"],
    spec: (s) => {
      s.hooks = { createContainer: [{ path: "/bin/true", args: ["true", "a\0b"] }] };
    },
  });
  t.after(() => b.cleanup());
  const r = await rt.run(uniqueId("nulhook"), b.dir);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /hooks\.createContainer\[0\]\.args\[1\]: must not contain a NUL byte/);
  assert.deepEqual(await rt.rootEntries(), []);
});

test("a device name longer than 255 bytes is refused, not created under its first 255 bytes", async (t) => {
  const name = "d".repeat(300);
  const b = await makeBundle({
    // If the device were made under a truncated name, this lists it.
    args: ["sh", "-c", "ls /dev | grep ddd"],
    spec: (s) => {
      s.linux!.devices = [{ path: `/dev/${name}`, type: "c", major: 1, minor: 3 }];
    },
  });
  t.after(() => b.cleanup());
  const r = await rt.run(uniqueId("longdev"), b.dir);
  assert.equal(r.stdout, "");
  assert.equal(r.code, 1);
  assert.match(r.stderr, /\/dev\/ddd.*(File name too long|too long)/);
  assert.deepEqual(await rt.rootEntries(), []);
});

test("a console socket path longer than a unix socket address is refused, not truncated", async (t) => {
  // A listener at the first 107 bytes of the path given: a truncated copy of the path names it.
  const base = await makeTempDir("berth-sock-");
  let prefix = join(base, "s");
  prefix += "x".repeat(107 - Buffer.byteLength(prefix));
  const given = `${prefix}/console.sock`;
  mkdirSync(prefix.slice(0, prefix.lastIndexOf("/")), { recursive: true });
  let connections = 0;
  const server = createServer((c) => {
    connections++;
    c.destroy();
  });
  await new Promise<void>((res) => server.listen(prefix, res));
  t.after(() => new Promise<void>((res) => server.close(() => res())));
  const b = await makeBundle({
    args: ["true"],
    spec: (s) => {
      s.process!.terminal = true;
    },
  });
  t.after(() => b.cleanup());
  const id = uniqueId("longsock");
  const c = await rt.createContainer(id, b.dir, { extraArgs: ["--console-socket", given] });
  t.after(() => rt.delete(id, { force: true }));
  assert.equal(connections, 0, "nothing connected to the socket at the truncated path");
  assert.notEqual(c.result.code, 0);
  assert.match(c.result.stderr, /console\.sock.*(File name too long|too long)/);
  assert.deepEqual(await rt.rootEntries(), []);
  assert.equal(existsSync(given), false);
});
