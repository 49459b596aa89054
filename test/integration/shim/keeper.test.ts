// The shim's keeper client (src/shim/keeper.ts) against the real dist/berth-keeper: start in a
// bundle (socket 0600, named in the bundle's `keeper` file), HELLO, SPAWN with RAN and EXIT, the
// exit file, HOLD, COPY in + CLOSEIN, LIST, FORGET, a second connection, QUIT; and a hostile
// keeper (a fake server) whose bad frames end the connection instead of reaching the shim.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  closeSync,
  constants,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { shimSys } from "../../../src/common/sys.ts";
import { Bundle } from "../../../src/shim/bundle.ts";
import { Keeper, keeperSocketPath, removeKeeperFiles } from "../../../src/shim/keeper.ts";
import { isRunning, ppidOf, until } from "../../helpers/direct-shim.ts";

const repo = join(import.meta.dirname, "..", "..", "..");
const skip =
  process.getuid?.() !== 0
    ? "root only (/run/berth/s)"
    : existsSync(join(repo, "dist", "berth-keeper"))
      ? undefined
      : "build first";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("Keeper against dist/berth-keeper", { skip }, () => {
  const dirs: string[] = [];
  const bundleDir = () => {
    const d = mkdtempSync(join(tmpdir(), "berth-keeper-client-"));
    dirs.push(d);
    return d;
  };

  /** Keepers to end whatever a test did (a failed assertion must not leave one running). */
  const started: Keeper[] = [];
  /** A keeper started in a fresh bundle, ended by after() whatever the test did. */
  const startKeeper = async () => {
    const dir = bundleDir();
    const k = await Keeper.start(dir);
    started.push(k);
    return { dir, k };
  };
  after(async () => {
    for (const k of started) {
      if (k.pid > 0 && isRunning(k.pid)) process.kill(k.pid, "SIGKILL");
      k.close();
      removeKeeperFiles(k.bundle, k.socketPath);
    }
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test("start, spawn, RAN, EXIT with its exit file, LIST, FORGET, reconnect, QUIT", { timeout: 30_000 }, async () => {
    const { dir, k } = await startKeeper();
    const path = keeperSocketPath(dir);
    assert.match(path, /^\/run\/berth\/s\/k-[0-9a-f]{24}$/);
    assert.equal(k.socketPath, path);
    assert.equal(new Bundle(dir).readKeeper(), path);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.ok(k.pid > 0 && readFileSync(`/proc/${k.pid}/comm`, "utf8").trim() === "berth-keeper");
    // Its own session: signals to this process's group do not reach it.
    const stat = readFileSync(`/proc/${k.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    assert.equal(Number(stat[3]), k.pid, "session leader");
    // Started with posix_spawn: nothing of the shim's environment, stdio /dev/null, fds 3 and 4.
    assert.equal(readFileSync(`/proc/${k.pid}/environ`).length, 0, "an empty environment");
    assert.equal(readlinkSync(`/proc/${k.pid}/fd/0`), "/dev/null");

    const exits: { name: string; status: number }[] = [];
    k.onExit((e) => exits.push(e));
    const devNull = openSync("/dev/null", constants.O_RDWR);
    const s = await k.spawn(
      "init",
      { pidFile: "init.pid", exitFile: "init.exit" },
      ["/bin/sh", "-c", "sleep 100 </dev/null >/dev/null 2>&1 & echo $! > init.pid"],
      ["PATH=/usr/bin:/bin"],
      [devNull, devNull, devNull],
    );
    closeSync(devNull);
    assert.ok(s.pid > 0);
    const ran = await s.ran;
    assert.equal(ran.status, 0);
    assert.equal(ran.spawnedPid, s.pid);
    assert.ok(ran.mainPid > 0);
    assert.equal(ppidOf(ran.mainPid), k.pid, "the keeper is the orphan's parent (its subreaper)");
    assert.deepEqual(
      (await k.list()).map((p) => [p.name, p.pid, p.state]),
      [["init", ran.mainPid, "running"]],
    );

    process.kill(ran.mainPid, "SIGKILL");
    await until("EXIT", () => exits.length > 0);
    assert.deepEqual(
      exits.map((e) => [e.name, e.status]),
      [["init", 137]],
    );
    assert.match(readFileSync(join(dir, "init.exit"), "utf8"), new RegExp(`^${ran.mainPid} 137 \\d+ \\d+\\n$`));
    const [rec] = await k.list();
    assert.equal(rec?.state, "exited");
    assert.equal(rec?.status, 137);
    await k.forget("init");
    assert.deepEqual(await k.list(), []);
    await assert.rejects(k.forget("init"), /no such name/);

    // A second client is refused while one is connected; after it leaves, another may connect.
    await assert.rejects(Keeper.connect(dir, 200), /busy|Broken pipe|connection/);
    k.close();
    assert.equal(await k.closed, "dropped");
    const again = await Keeper.connect(dir);
    assert.equal(again.pid, k.pid);
    assert.equal(await again.quit(), true);
    assert.equal(await again.closed, "quit");
    await until("the keeper exits", () => !isRunning(k.pid));
    assert.ok(!existsSync(path), "socket removed");
    assert.ok(!existsSync(new Bundle(dir).keeper), "keeper file removed");
  });

  test("COPY in feeds a pipe from a fifo; CLOSEIN gives EOF; HOLD takes the output fd", {
    timeout: 30_000,
  }, async () => {
    const { dir, k } = await startKeeper();
    try {
      const fifo = join(dir, "stdin");
      execFileSync("mkfifo", [fifo]);
      // The client's writer is open before the process is asked for (as ctr does).
      const writer = openSync(fifo, constants.O_RDWR);
      const src = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
      const [r, w] = shimSys().pipe();
      const out = join(dir, "out");
      const outFd = openSync(out, constants.O_WRONLY | constants.O_CREAT, 0o600);
      const s = await k.spawn(
        "cat",
        { pidFile: "", exitFile: "" },
        ["/bin/sh", "-c", "cat; echo done"],
        ["PATH=/usr/bin:/bin"],
        [r, outFd, outFd],
      );
      const ran = s.ran;
      await k.copy("cat", "in", src, w);
      await k.hold("cat", [outFd]);
      for (const fd of [r, w, src, outFd]) closeSync(fd);
      // The writer stays open: EOF would end the copy by itself; CLOSEIN must.
      writeSync(writer, "hello\n");
      await until("the copy", () => readFileSync(out, "utf8") === "hello\n");
      await sleep(200);
      assert.equal(readFileSync(out, "utf8"), "hello\n", "stdin still open");
      assert.equal(ppidOf(s.pid), k.pid);
      await k.closeIn("cat");
      const r2 = await ran;
      assert.equal(r2.status, 0, "cat saw EOF and exited");
      assert.equal(readFileSync(out, "utf8"), "hello\ndone\n");
      closeSync(writer);
    } finally {
      await k.quit();
    }
  });

  test("SPAWN of a name in use, or with a bad name, is refused; the keeper serves on", {
    timeout: 30_000,
  }, async () => {
    const { k } = await startKeeper();
    try {
      const devNull = openSync("/dev/null", constants.O_RDWR);
      const argv = ["/bin/sleep", "100"];
      const s = await k.spawn("a", { pidFile: "", exitFile: "" }, argv, [], [devNull]);
      await assert.rejects(k.spawn("a", { pidFile: "", exitFile: "" }, argv, [], [devNull]), /name in use/);
      await assert.rejects(k.spawn("../a", { pidFile: "", exitFile: "" }, argv, [], [devNull]), /not a valid name/);
      await assert.rejects(k.spawn("b", { pidFile: "../x", exitFile: "" }, argv, [], [devNull]), /not a valid name/);
      closeSync(devNull);
      assert.ok(isRunning(s.pid));
      process.kill(s.pid, "SIGKILL");
      assert.equal((await s.ran).status, 137);
    } finally {
      await k.quit();
    }
  });

  test("a hostile keeper: bad frames close the connection; pending requests fail", { timeout: 30_000 }, async () => {
    const cases: { name: string; send: Buffer; check: RegExp; afterHello?: boolean }[] = [
      { name: "a frame over 64 KiB", send: header(70_000), check: /70000 bytes/ },
      { name: "a zero-length frame", send: header(0), check: /0 bytes/ },
      { name: "an unknown verb", send: frame("PWNED\0x"), check: /unknown verb/ },
      { name: "an OK no request waits for", send: frame("OK"), check: /no request|connection lost/, afterHello: true },
      { name: "a RAN with a bad name", send: frame("RAN\0../x\x001\x000\x002"), check: /bad process name/ },
      { name: "garbage", send: Buffer.from("\x00\x00\x00\x05\xff\xfe\xfd\xfc\xfb\x00"), check: /./ },
    ];
    for (const c of cases) {
      const dir = bundleDir();
      const sock = join(dir, "fake.sock");
      const server = net.createServer((conn) => {
        let said = "";
        conn.on("data", (d) => {
          said += d.toString("latin1");
          if (said.includes("HELLO")) {
            said = "";
            conn.write(Buffer.concat([frame("OK\x001\x0099"), c.afterHello ? c.send : Buffer.alloc(0)]));
          } else if (said.includes("LIST")) conn.write(c.send);
        });
        conn.on("error", () => {});
      });
      await new Promise<void>((ok) => server.listen(sock, ok));
      try {
        new Bundle(dir).writeKeeper(sock);
        const k = await Keeper.connect(dir);
        assert.equal(k.pid, 99);
        await assert.rejects(k.list(), c.check, c.name);
        assert.equal(await k.closed, "lost", c.name);
        await assert.rejects(k.forget("init"), /connection lost/, c.name);
      } finally {
        server.close();
      }
    }
  });
});

function header(n: number): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt32BE(n, 0);
  return h;
}

function frame(body: string): Buffer {
  const b = Buffer.from(body, "latin1");
  return Buffer.concat([header(b.length), b]);
}
