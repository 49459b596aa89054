// Hostile or broken input on the keeper's socket (issue 13, "Done means" 5): garbage, truncated
// frames, bad lengths, unknown verbs, wrong field and fd counts, bad names, a second client, a
// client that never reads. Each gets an ERR or a closed connection; the process the keeper watches
// keeps running untouched, and the keeper keeps serving.
import assert from "node:assert/strict";
import { closeSync, readdirSync, readlinkSync } from "node:fs";
import { type TestContext, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { shimSys } from "../../../src/common/sys.ts";
import { encodeFrame } from "../../helpers/keeper-frames.ts";
import { alive, devNull, type Keeper, KeeperClient, spawnFrame, startKeeper, waitFor } from "./harness.ts";

/**
 * A keeper watching a sleep, the client that spawned it, and a check that both are as they were: the sleep runs, and a fresh
 * client (once `done`, the test's own, is closed) is served and finds the sleep in LIST unchanged.
 */
async function keeperWithSleeper(
  t: TestContext,
): Promise<{ k: Keeper; c: KeeperClient; intact: (done?: KeeperClient) => Promise<void> }> {
  const k = await startKeeper(t);
  const c = await KeeperClient.connect(k, t);
  await c.request(spawnFrame("sleeper", ["/bin/sleep", "100"]), [devNull(t)]);
  const pid = (await c.list()).get("sleeper")?.pid;
  return {
    k,
    c,
    intact: async (done?: KeeperClient) => {
      done?.sock.destroy();
      assert.ok(pid && alive(pid), "the sleeper runs");
      // The keeper notices a closed client at its next turn: until then a new one is busy.
      for (const until = Date.now() + 5000; ; ) {
        const fresh = await KeeperClient.connect(k);
        const r = await fresh.request(["HELLO"]).catch(() => undefined);
        if (r?.[0] === "OK") {
          assert.deepEqual((await fresh.list()).get("sleeper"), { pid, state: "spawning", status: 0, sec: 0 });
          fresh.sock.destroy();
          return;
        }
        fresh.sock.destroy();
        assert.ok(Date.now() < until, `no client served: ${r}`);
        await sleep(20);
      }
    },
  };
}

/** Sends bytes in chunks on a non-blocking socket, waiting whenever it is full. */
async function sendAll(c: KeeperClient, bytes: Buffer): Promise<void> {
  for (let off = 0; off < bytes.length; ) {
    try {
      off += shimSys().sendFds(c.fd, bytes.subarray(off), []);
    } catch (e) {
      const err = e as Error & { code?: string; sent?: number };
      if (err.code !== "EAGAIN") throw e;
      off += err.sent ?? 0;
      await sleep(5);
    }
  }
}

test("garbage and frame lengths: 0 gets ERR and the stream goes on; over 65536 or garbage gets ERR and a close", async (t) => {
  const start = await keeperWithSleeper(t);
  const { k, intact } = start;
  let c = start.c;
  c.sendRaw(Buffer.from([0, 0, 0, 0]));
  assert.deepEqual(await c.reply(), ["ERR", "empty frame"]);
  assert.deepEqual(await c.request(["HELLO"]), ["OK", "1", String(k.pid)]);
  // 65536 bytes is a frame (of an unknown verb); one byte more is not.
  await sendAll(c, encodeFrame(["A".repeat(65536)]));
  assert.deepEqual(await c.reply(), ["ERR", "unknown verb"]);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(65537);
  c.sendRaw(head);
  assert.deepEqual(await c.reply(), ["ERR", "frame too long"]);
  await waitFor("closed", () => c.closed);
  // An HTTP request: "GET " is a length of 1.2 GB.
  c = await KeeperClient.connect(k, t);
  c.sendRaw(Buffer.from("GET / HTTP/1.1\r\nHost: keeper\r\n\r\n"));
  assert.deepEqual(await c.reply(), ["ERR", "frame too long"]);
  await waitFor("closed", () => c.closed);
  // Random bytes behind a small length: one frame of nonsense, then the rest is read as frames.
  c = await KeeperClient.connect(k, t);
  let seed = 13;
  const random = Buffer.from(
    Buffer.alloc(3000).map(() => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed & 0xff;
    }),
  );
  random.writeUInt32BE(200, 0);
  c.sendRaw(random);
  assert.equal((await c.reply())[0], "ERR");
  await waitFor("an ERR for each frame, then a close", () => c.closed, 5000);
  assert.ok(c.replies.every((r) => r[0] === "ERR"));
  await intact(c);
});

test("a truncated frame, then a close: the keeper forgets it and serves the next client", async (t) => {
  const { k, c, intact } = await keeperWithSleeper(t);
  const [r, w] = shimSys().pipe();
  t.after(() => closeSync(r));
  const frame = encodeFrame(["HOLD", "sleeper"]);
  // Half a frame with an fd: closing mid-frame must not keep the fd.
  c.sendRaw(frame.subarray(0, 7), [w]);
  const inode = readlinkSync(`/proc/self/fd/${w}`);
  closeSync(w);
  await sleep(50);
  await intact(c);
  const held = readdirSync(`/proc/${k.pid}/fd`).map((fd) => readlinkSync(`/proc/${k.pid}/fd/${fd}`));
  assert.equal(held.includes(inode), false);
});

test("unknown verbs, wrong field counts and wrong fd counts get ERR; the fds that came are closed", async (t) => {
  const { k, c, intact } = await keeperWithSleeper(t);
  const n = devNull(t);
  const cases: [string[], number[], string][] = [
    [["FOO"], [], "unknown verb"],
    [["hello"], [], "unknown verb"],
    [["HELLO", "extra"], [], "wrong number of fields"],
    [["LIST", ""], [], "wrong number of fields"],
    [["HELLO"], [n], "wrong number of fds"],
    [["HOLD", "sleeper"], [], "wrong number of fds"],
    [["COPY", "sleeper", "out"], [n], "wrong number of fds"],
    [["COPY", "sleeper", "out"], [n, n, n], "wrong number of fds"],
    [["SPAWN", "x", "", "", "1", "/bin/true", "0"], [], "wrong number of fds"],
    // argc says 3, two arguments follow.
    [["SPAWN", "x", "", "", "3", "/bin/true", "a", "0"], [n], "wrong number of fields"],
    [["SPAWN", "x", "", "", "1", "/bin/true", "2", "A=1"], [n], "wrong number of fields"],
    [["SPAWN", "x", "", "", "1", "/bin/true", "0", "extra"], [n], "wrong number of fields"],
    [["SPAWN", "x", "", "", "0", "0", "x"], [n], "bad argc"],
    [["SPAWN", "x", "", "", "257", "/bin/true", "0"], [n], "bad argc"],
    [["SPAWN", "x", "", "", "-1", "/bin/true", "0"], [n], "bad argc"],
    [["SPAWN", "x", "", "", "1", "/bin/true", "0x1"], [n], "bad envc"],
    [["SPAWN", "x", "", "", "99999999999", "/bin/true", "0"], [n], "bad argc"],
    [["SPAWN", "x", "", "", "1", "/bin/true"], [n], "wrong number of fields"],
  ];
  for (const [fields, fds, why] of cases)
    assert.deepEqual(await c.request(fields, fds), ["ERR", why], fields.join(" "));
  // 257 arguments: more than SPAWN may have.
  const many = ["SPAWN", "x", "", "", "257", ...Array(257).fill("a"), "0"];
  assert.deepEqual(await c.request(many, [n]), ["ERR", "bad argc"]);
  // The fds of a refused frame are closed: the write end a HELLO brought is not held, so its
  // pipe sees EOF once the test closes its own.
  const [r, w] = shimSys().pipe();
  const inode = readlinkSync(`/proc/self/fd/${w}`);
  assert.deepEqual(await c.request(["HELLO"], [w]), ["ERR", "wrong number of fds"]);
  closeSync(w);
  closeSync(r);
  assert.equal(
    readdirSync(`/proc/${k.pid}/fd`).some((fd) => readlinkSync(`/proc/${k.pid}/fd/${fd}`) === inode),
    false,
  );
  assert.deepEqual((await c.list()).size, 1, "nothing was spawned");
  await intact(c);
});

test("bad names and file names are refused", async (t) => {
  const { c, intact } = await keeperWithSleeper(t);
  const n = devNull(t);
  for (const name of ["../x", "a/b", ".x", "..", ".", "", "a b", "x".repeat(129), "é", "a\nb"]) {
    assert.deepEqual(await c.request(spawnFrame(name, ["/bin/true"]), [n]), ["ERR", "bad name"], name);
    assert.deepEqual(await c.request(["FORGET", name]), ["ERR", "bad name"], name);
  }
  for (const file of ["../x", "a/b", ".x", "/etc/passwd", "x".repeat(129)]) {
    assert.deepEqual(await c.request(spawnFrame("ok", ["/bin/true"], { pidfile: file }), [n]), [
      "ERR",
      "bad file name",
    ]);
    assert.deepEqual(await c.request(spawnFrame("ok", ["/bin/true"], { exitfile: file }), [n]), [
      "ERR",
      "bad file name",
    ]);
  }
  // The longest name and the whole alphabet are names.
  const longest = `A-z_0.9${"x".repeat(121)}`;
  assert.equal((await c.request(spawnFrame(longest, ["/bin/true"]), [n]))[0], "OK");
  await c.event("RAN", longest);
  await intact(c);
});

test("a second client gets ERR busy and is closed; the first is still served", async (t) => {
  const { k, c: first, intact } = await keeperWithSleeper(t);
  assert.equal((await first.request(["HELLO"]))[0], "OK");
  const second = await KeeperClient.connect(k, t);
  await waitFor("the second closed", () => second.closed);
  assert.deepEqual(second.replies, [["ERR", "busy"]]);
  assert.equal((await first.request(["HELLO"]))[0], "OK");
  await intact(first);
});

test("a client that sends many LISTs and never reads is disconnected; the next client is served", async (t) => {
  const { c, intact } = await keeperWithSleeper(t);
  c.sock.pause(); // nothing is read from here on
  const list = encodeFrame(["LIST"]);
  // 40,000 LISTs ask for about 2.5 MB of replies: far past the 256 KiB a client may leave unread
  // plus what the socket buffers hold.
  await sendAll(c, Buffer.concat(Array(40000).fill(list))).catch(() => {});
  // Disconnected by the keeper, not by the test: the next client is served while this one is open.
  await intact();
  assert.equal(c.closed, false);
});

test("fds spread over two sendmsg calls of one frame, 17 in all: the connection is closed, the fds too", async (t) => {
  const { k, c, intact } = await keeperWithSleeper(t);
  const n = devNull(t);
  const frame = encodeFrame(["HOLD", "sleeper"]);
  c.sendRaw(frame.subarray(0, 6), Array(16).fill(n));
  c.sendRaw(frame.subarray(6), [n]);
  await waitFor("closed", () => c.closed);
  assert.deepEqual(c.replies.at(-1), ["ERR", "bad SCM_RIGHTS"]);
  assert.equal(readdirSync(`/proc/${k.pid}/fd`).length, 6, "0-2, the bundle, the listener, the signalfd");
  await intact(c);
});
