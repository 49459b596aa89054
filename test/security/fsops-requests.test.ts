// fsops (native/fsops.c) makes mknod and xattr calls for berth-containerd's layer application, on
// paths and names that come from image layers. It must act on exactly the name it was given: a
// path or xattr name with a NUL inside is answered EINVAL (as a C string it would name a shorter
// path), and a malformed request ends the helper (status 2) without acting on it.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { makeTempDir } from "../fixtures/busybox.ts";

const FSOPS = fileURLToPath(new URL("../../dist/fsops", import.meta.url));

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

/** One request as the protocol at the top of native/fsops.c lays it out. */
function request(op: number, args: (string | number | Buffer)[]): Buffer {
  const parts = args.map((a) => (typeof a === "number" ? u32(a) : Buffer.isBuffer(a) ? a : Buffer.from(a)));
  const body = Buffer.concat([Buffer.from([op]), ...parts.flatMap((p) => [u32(p.length), p])]);
  return Buffer.concat([u32(body.length), body]);
}

/** Feeds `input` to a fresh fsops and returns its replies ([errno, data] each) and exit status. */
async function talk(input: Buffer): Promise<{ replies: [number, Buffer][]; status: number | null }> {
  const child = spawn(FSOPS, [], { stdio: ["pipe", "pipe", "inherit"] });
  const chunks: Buffer[] = [];
  child.stdout.on("data", (c: Buffer) => chunks.push(c));
  child.stdin.end(input);
  const status = await new Promise<number | null>((res) => child.on("close", (code) => res(code)));
  const out = Buffer.concat(chunks);
  const replies: [number, Buffer][] = [];
  for (let off = 0; off + 4 <= out.length; ) {
    const len = out.readUInt32LE(off);
    replies.push([out.readInt32LE(off + 4), out.subarray(off + 8, off + 4 + len)]);
    off += 4 + len;
  }
  return { replies, status };
}

const S_IFREG = 0o100000;
const EINVAL = 22;

test("a path with a NUL inside is answered EINVAL and nothing is made under its first part", async () => {
  const dir = await makeTempDir("berth-fsops-nul-");
  const { replies, status } = await talk(request(1, [`${join(dir, "short")}\0/../long`, S_IFREG | 0o644, 0, 0]));
  assert.equal(status, 0);
  assert.deepEqual(
    replies.map((r) => r[0]),
    [EINVAL],
  );
  assert.deepEqual(readdirSync(dir), []);
});

test("an xattr name with a NUL inside is answered EINVAL", async () => {
  const dir = await makeTempDir("berth-fsops-nul-");
  const { replies, status } = await talk(request(2, [dir, "user.a\0user.b", "v"]));
  assert.equal(status, 0);
  assert.deepEqual(
    replies.map((r) => r[0]),
    [EINVAL],
  );
});

test("well-formed requests still work, in order, one reply each", async () => {
  const dir = await makeTempDir("berth-fsops-ok-");
  const file = join(dir, "f");
  const { replies, status } = await talk(
    Buffer.concat([
      request(1, [file, S_IFREG | 0o644, 0, 0]),
      request(2, [file, "user.k", "value"]),
      request(3, [file, "user.k"]),
    ]),
  );
  assert.equal(status, 0);
  assert.deepEqual(
    replies.map((r) => r[0]),
    [0, 0, 0],
  );
  assert.equal(replies[2]![1].toString(), "value");
  assert.ok(existsSync(file));
});

test("malformed requests end the helper with status 2 and are not acted on", async () => {
  const dir = await makeTempDir("berth-fsops-bad-");
  const file = join(dir, "f");
  const cases: [string, Buffer][] = [
    ["mknod with 3 arguments", request(1, [file, S_IFREG | 0o644, 0])],
    ["mknod with a 2-byte mode", request(1, [file, Buffer.from([0, 0x80]), 0, 0])],
    ["an argument longer than the request", Buffer.concat([u32(9), Buffer.from([1]), u32(1000), Buffer.from("abcd")])],
    ["a zero-length request", u32(0)],
    ["a request over 1 MiB", Buffer.concat([u32(2 << 20), Buffer.from([4])])],
    ["an unknown op", request(9, [file])],
    ["a stream cut mid-request", request(1, [file, S_IFREG | 0o644, 0, 0]).subarray(0, 20)],
  ];
  for (const [what, input] of cases) {
    const { replies, status } = await talk(input);
    assert.equal(status, 2, what);
    assert.deepEqual(replies, [], what);
    assert.equal(existsSync(file), false, what);
  }
});
