// Hole (the 2025 console race class): with process.terminal, the init opened /dev/ptmx, then its
// pty's slave *by path* (/dev/pts/N) and bind-mounted /dev/console from that same path. Whatever
// answers to that name — a link or file put there through the container's /dev/pts, or one
// swapped in between the two steps — became the container's stdio and /dev/console instead of the
// pty whose master the caller received. The slave must come from the master itself (TIOCGPTPEER),
// be checked to be a pty slave (devpts, major 136-143), and /dev/console be bound from that fd.
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { makeBundle, makeTempDir } from "../fixtures/busybox.ts";
import { Runtime, uniqueId } from "../helpers/runtime.ts";
import { SUBJECT_BIN } from "../integration/conformance/harness.ts";

const RECEIVER = fileURLToPath(new URL("../fixtures/console-receiver.py", import.meta.url));

let rt: Runtime;
before(async () => {
  rt = await Runtime.create(SUBJECT_BIN, "console-bind");
});
after(async () => {
  await rt.destroy();
});

/** The console socket receiver: resolves to what the container's terminal showed. */
async function consoleReceiver(dir: string): Promise<{ socket: string; transcript: () => Promise<string> }> {
  const socket = join(dir, "console.sock");
  const child = spawn("python3", [RECEIVER, socket], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    out += d;
  });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  for (let i = 0; i < 300 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 10));
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  return {
    socket,
    transcript: async () => {
      await exited;
      clearTimeout(timer);
      return out.replaceAll("\r\n", "\n");
    },
  };
}

// Holds the master of a pty in the devpts instance at argv[1] (opened through its own ptmx), prints
// "pty N", then everything written to that pty's slave.
const HOLD_PTY = `
import fcntl, os, struct, sys
m = os.open(sys.argv[1] + "/ptmx", os.O_RDWR | os.O_NOCTTY)
fcntl.ioctl(m, 0x40045431, struct.pack("i", 0))  # TIOCSPTLCK: unlock
n = struct.unpack("i", fcntl.ioctl(m, 0x80045430, struct.pack("i", 0)))[0]  # TIOCGPTN
print("pty", n, flush=True)
while True:
    try:
        data = os.read(m, 4096)
    except OSError:
        break
    if not data:
        break
    sys.stdout.write(data.decode(errors="replace"))
    sys.stdout.flush()
`;

test("terminal: the container's stdio and /dev/console are the pty whose master the caller got", async (t) => {
  // The config's /dev/pts: a directory holding a ptmx node and its own devpts instance (pts/), so
  // /dev/ptmx allocates pty 1 there, while "1" beside it is a link to pty 0, held by this test.
  const dev = await makeTempDir("berth-console-pts-");
  execFileSync("mknod", ["-m", "666", join(dev, "ptmx"), "c", "5", "2"]);
  mkdirSync(join(dev, "pts"));
  execFileSync("mount", ["-t", "devpts", "-o", "newinstance,ptmxmode=0666,mode=620", "devpts", join(dev, "pts")]);
  t.after(() => execFileSync("umount", ["-l", join(dev, "pts")]));
  const holder: ChildProcess = spawn("python3", ["-c", HOLD_PTY, join(dev, "pts")], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  t.after(() => holder.kill("SIGKILL"));
  let planted = "";
  holder.stdout!.setEncoding("utf8").on("data", (d: string) => {
    planted += d;
  });
  for (let i = 0; i < 300 && !planted.includes("\n"); i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(planted, "pty 0\n");
  symlinkSync("pts/0", join(dev, "1"));

  const probe =
    "echo marker-on-the-terminal; stat -c 'console %t:%T' /dev/console; stat -L -c 'stdin %t:%T' /proc/self/fd/0";
  const b = await makeBundle({
    args: ["sh", "-c", probe],
    spec: (s) => {
      s.process!.terminal = true;
      s.mounts = s.mounts!.filter((m) => m.destination !== "/dev/pts");
      s.mounts.push({ destination: "/dev/pts", type: "bind", source: dev, options: ["rbind"] });
    },
  });
  t.after(() => b.cleanup());
  const rx = await consoleReceiver(await makeTempDir("berth-console-sock-"));
  const id = uniqueId("console");
  const c = await rt.createContainer(id, b.dir, { extraArgs: ["--console-socket", rx.socket] });
  t.after(() => rt.delete(id, { force: true }));
  assert.equal(c.result.code, 0, c.result.stderr);
  assert.equal((await rt.start(id)).code, 0);
  const transcript = await rx.transcript();
  await rt.waitStatus(id, "stopped");

  // Before the fix: the container wrote into the planted pty 0 and the caller's master saw nothing.
  assert.equal(planted, "pty 0\n", "the container's output went to another pty");
  assert.match(transcript, /marker-on-the-terminal/);
  // /dev/console is the container's own pty (major 136-143 = 0x88-0x8f), the one on its stdin.
  const consoleDev = transcript.match(/console ([0-9a-f]+):([0-9a-f]+)/);
  const stdinDev = transcript.match(/stdin ([0-9a-f]+):([0-9a-f]+)/);
  assert.ok(consoleDev && stdinDev, transcript);
  assert.equal(consoleDev[0].slice("console ".length), stdinDev[0].slice("stdin ".length));
  const major = Number.parseInt(consoleDev[1]!, 16);
  assert.ok(major >= 136 && major <= 143, `major ${major}`);
  assert.equal(Number.parseInt(consoleDev[2]!, 16), 1, "pty 1, the one the runtime allocated");
});
