// Terminals: a pty handed to the caller through --console-socket (what containerd and podman use),
// and `run` with a pty and no socket (the runtime relays it itself), compared with runc.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type ConformanceCase, conformance, contains, formatFailure, type Half } from "./harness.ts";

const RECEIVER = fileURLToPath(new URL("../../fixtures/console-receiver.py", import.meta.url));
const PROBE = "tty; stty size; [ -c /dev/console ] && echo console is a char device; echo done";

/** Starts the receiver on a fresh socket; resolves to a function that waits for its transcript. */
async function consoleReceiver(h: Half, input = ""): Promise<{ socket: string; transcript: () => Promise<string> }> {
  const socket = join(h.scratch, "console.sock");
  const child = spawn("python3", [RECEIVER, socket, ...(input ? [input] : [])], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    out += d;
  });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  h.defer(() => child.kill("SIGKILL"));
  for (let i = 0; i < 200 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 10));
  const transcript = async () => {
    await exited;
    return out.replaceAll("\r\n", "\n");
  };
  return { socket, transcript };
}

function terminalSpec(h: Half, probe = PROBE) {
  return h.bundle({
    args: ["sh", "-c", probe],
    spec: (s) => {
      s.process!.terminal = true;
      s.process!.consoleSize = { height: 30, width: 100 };
    },
  });
}

const cases: ConformanceCase[] = [
  {
    name: "create --console-socket: the pty master goes to the caller",
    async run(h) {
      const b = await terminalSpec(h);
      const rx = await consoleReceiver(h);
      const c = await h.rt.createContainer(h.id, b.dir, { extraArgs: ["--console-socket", rx.socket] });
      h.defer(() => h.rt.delete(h.id, { force: true }));
      let out = `create ${formatFailure(c.result)}\n`;
      out += `start ${formatFailure(await h.rt.start(h.id))}\n`;
      out += `terminal:\n${await rx.transcript()}`;
      await h.rt.waitStatus(h.id, "stopped");
      return out;
    },
    check: contains("/dev/pts/0", "30 100", "console is a char device", "done"),
  },
  {
    name: "exec --tty --console-socket",
    async run(h) {
      const b = await h.bundle({ args: ["sh", "-c", "echo ready; while :; do sleep 0.05; done"] });
      const c = await h.rt.createContainer(h.id, b.dir);
      h.defer(() => h.rt.delete(h.id, { force: true }));
      await h.rt.start(h.id);
      const rx = await consoleReceiver(h);
      const r = await h.rt.exec([
        "exec",
        "--tty",
        "--detach",
        "--console-socket",
        rx.socket,
        h.id,
        "sh",
        "-c",
        "tty; echo exec done",
      ]);
      return `exec ${formatFailure(r)}\nterminal:\n${await rx.transcript()}create ${formatFailure(c.result)}\n`;
    },
    check: contains("/dev/pts/", "exec done"),
  },
  {
    name: "a terminal without a console socket is refused when detached",
    async run(h) {
      const b = await terminalSpec(h);
      const c = await h.rt.createContainer(h.id, b.dir);
      return `create ${formatFailure(c.result)}\nleft: ${(await h.rt.rootEntries()).length}\n`;
    },
    check: contains("create exit=1 stderr=non-empty", "left: 0"),
  },
  {
    name: "run with a terminal and no console socket relays the pty",
    async run(h) {
      // No `stty size` here: runc resizes the pty to its own terminal's size (0x0 under python's
      // pty) while the container runs, so what the container sees is a race in the reference.
      const b = await terminalSpec(h, PROBE.replace("stty size; ", ""));
      // The runtime itself runs on a pty (python's pty module), as a user's shell would give it.
      const script = `import pty, sys; sys.exit(pty.spawn(sys.argv[1:]) >> 8)`;
      const out = join(h.scratch, "relay.out");
      const child = spawn(
        "sh",
        [
          "-c",
          `python3 -c '${script}' "$@" > ${out}`,
          "sh",
          h.rt.bin,
          "--root",
          h.rt.root,
          "run",
          "--bundle",
          b.dir,
          h.id,
        ],
        {
          stdio: ["ignore", "ignore", "inherit"],
        },
      );
      const code = await new Promise<number>((resolve) => child.on("exit", (c) => resolve(c ?? 1)));
      // Carriage returns vary with when each runtime puts its terminal into raw mode (a race in
      // runc itself); the lines are what is compared.
      return `exit=${code}\n${(await readFile(out, "utf8")).replaceAll("\r", "")}`;
    },
    check: contains("exit=0", "/dev/pts/0", "done"),
  },
];

conformance("terminal", cases);
