// The addon calls the shim talks to a keeper with (native/node/shimsys.c): socketpair and sendFds,
// whose fds a receiver gets as its own (here recvFd, the keeper's own receive is tested beside).
import assert from "node:assert/strict";
import { closeSync, fstatSync, openSync, readSync, writeFileSync } from "node:fs";
import { Socket } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { shimSys } from "../../../src/common/sys.ts";
import { makeTempDir } from "../../fixtures/busybox.ts";

test("sendFds passes an fd through a socketpair: the receiver reads the same file", async (t) => {
  const dir = await makeTempDir("berth-sendfds-");
  const file = join(dir, "f");
  writeFileSync(file, "through the socket");
  const sys = shimSys();
  const [a, b] = sys.socketpair();
  const fd = openSync(file, "r");
  t.after(() => {
    for (const f of [a, b, fd]) closeSync(f);
  });

  assert.equal(sys.sendFds(a, new TextEncoder().encode("frame"), [fd]), 5);
  const got = sys.recvFd(b, 1000);
  t.after(() => closeSync(got));
  assert.notEqual(got, fd);
  assert.equal(fstatSync(got).ino, fstatSync(fd).ino);
  const buf = Buffer.alloc(64);
  const n = readSync(got, buf, 0, 64, 0);
  assert.equal(buf.subarray(0, n).toString(), "through the socket");
});

test("sendFds refuses more than 16 fds, and fds with no byte to carry them, with EINVAL", () => {
  const sys = shimSys();
  const [a, b] = sys.socketpair();
  try {
    const many = Array.from({ length: 17 }, () => a);
    assert.throws(() => sys.sendFds(a, new Uint8Array([1]), many), { code: "EINVAL" });
    assert.throws(() => sys.sendFds(a, new Uint8Array(0), [a]), { code: "EINVAL" });
    assert.equal(sys.sendFds(a, new Uint8Array(0), []), 0);
    assert.throws(() => sys.sendFds(a, "text" as unknown as Uint8Array, []), TypeError);
  } finally {
    closeSync(a);
    closeSync(b);
  }
});

test("sendFds on a full non-blocking socket throws EAGAIN saying how much it sent", async () => {
  const sys = shimSys();
  const [a, b] = sys.socketpair();
  // libuv makes the fd it wraps non-blocking, as the shim's socket to a keeper will be.
  const wrapped = new Socket({ fd: a, readable: false, writable: true });
  const big = new Uint8Array(8 * 1024 * 1024);
  try {
    let err: (Error & { code?: string; sent?: number }) | undefined;
    try {
      sys.sendFds(a, big, [b]);
    } catch (e) {
      err = e as typeof err;
    }
    assert.ok(err, "an 8 MiB send into an unread socket cannot complete");
    assert.equal(err.code, "EAGAIN");
    assert.ok(typeof err.sent === "number" && err.sent > 0 && err.sent < big.length, `sent ${err.sent}`);
    assert.match(err.message, new RegExp(`sent ${err.sent} of ${big.length} bytes`));
    // What went is on the socket: the peer reads exactly that many bytes.
    const buf = Buffer.alloc(big.length);
    let total = 0;
    for (;;) {
      try {
        const n = readSync(b, buf, total, buf.length - total, null);
        if (n === 0) break;
        total += n;
        if (total === err.sent) break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "EAGAIN") break;
        throw e;
      }
    }
    assert.equal(total, err.sent);
  } finally {
    wrapped.destroy();
    closeSync(b);
  }
});
