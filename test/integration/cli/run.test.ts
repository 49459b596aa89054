// berth run/create/pull/start -a/attach/exec against the real docker CLI on the SAME berthd:
// output and exit codes of run --rm (0, and a shell's own 3), a missing image pulled from a local
// registry with the config's credentials ("Unable to find image ... locally" and the pull's lines
// on stderr), run -d then logs, exec's streams, stdin and exit code, and -it through a real
// pseudo-terminal (a prompt, `stty size` after a resize, ctrl-p ctrl-q detach, attach again,
// `exit 3`). Bad input is refused with nothing sent (a recording daemon sees no request).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { writeImageArchive } from "../../fixtures/oci-image.ts";
import { outputOf } from "../../helpers/berth-containerd.ts";
import { type Berthd, berthdWithBusybox, DOCKER_CLI, DOCKER_CLI_20 } from "../../helpers/berthd.ts";
import { type LocalRegistry, seedImage, startRegistry } from "../../helpers/local-registry.ts";
import { recordingDaemon } from "../../helpers/recording-daemon.ts";

const BERTH = process.env.BERTH_CLI ?? join(import.meta.dirname, "..", "..", "..", "dist", "berth.mjs");
let d: Berthd;

before(async () => {
  d = await berthdWithBusybox();
  mkdirSync(join(d.dir, "client-config"), { recursive: true });
});
after(() => d?.cleanup());

function env(): Record<string, string> {
  const e: Record<string, string> = {
    ...(process.env as Record<string, string>),
    DOCKER_CONFIG: join(d.dir, "client-config"),
  };
  e.DOCKER_API_VERSION = DOCKER_CLI === DOCKER_CLI_20 ? "1.41" : "";
  return e;
}

function berth(args: string[], input?: string, host = `unix://${d.socket}`) {
  const child = spawn(process.execPath, [BERTH, "-H", host, ...args], {
    stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    env: env(),
    timeout: 120_000,
  });
  if (input !== undefined) child.stdin?.end(input);
  return outputOf(child);
}

function docker(args: string[], input?: string) {
  const child = spawn(DOCKER_CLI, ["-H", `unix://${d.socket}`, ...args], {
    stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    env: env(),
    timeout: 120_000,
  });
  if (input !== undefined) child.stdin?.end(input);
  return outputOf(child);
}

const normal = (s: string) => s.replaceAll("docker", "P").replaceAll("berth", "P");

async function same(
  args: string[],
  input?: string,
): Promise<{ stdout: string; stderr: string; status: number | null }> {
  const want = await docker(args, input);
  const got = await berth(args, input);
  assert.equal(normal(got.stdout), normal(want.stdout), `stdout of ${args.join(" ")}`);
  assert.equal(normal(got.stderr), normal(want.stderr), `stderr of ${args.join(" ")}`);
  assert.equal(got.status, want.status, `exit code of ${args.join(" ")}`);
  return got;
}

test("run --rm: output and exit codes (0, the shell's 3, a missing command's 127), stdin with -i", async () => {
  assert.equal((await same(["run", "--rm", "busybox", "echo", "hello"])).stdout, "hello\n");
  const three = await same(["run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3"]);
  assert.equal(three.status, 3);
  assert.equal(three.stderr, "err\n");
  assert.equal((await same(["run", "--rm", "-i", "busybox", "cat"], "piped\nlines\n")).stdout, "piped\nlines\n");
  // A command that is not there: the daemon's error, exit 127 (wording compared with the ids out).
  const got = await berth(["run", "--rm", "busybox", "nosuchcmd"]);
  const want = await docker(["run", "--rm", "busybox", "nosuchcmd"]);
  assert.equal(got.status, 127);
  assert.equal(got.status, want.status);
  // The daemon's line, without the ids (client 20.10 logs "error waiting for container" first,
  // ends the line with a period and has a shorter hint).
  const first = (s: string) =>
    normal(s)
      .split("\n")
      .find((l) => l.includes("Error response from daemon"))
      ?.replace(/[0-9a-f]{64}/g, "ID")
      .replace(/\.$/, "");
  assert.equal(first(got.stderr), first(want.stderr));
  assert.match(got.stderr, /^berth: Error response from daemon: .*executable file not found/);
  // Nothing is left behind by --rm.
  assert.equal((await berth(["ps", "-aq"])).stdout, "");
});

test("run -d prints the id, logs read it back; create, start -a gives the exit code", async () => {
  const run = await berth(["run", "-d", "--name", "bg", "busybox", "sh", "-c", "echo from-bg"]);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /^[0-9a-f]{64}\n$/);
  assert.equal((await berth(["wait", "bg"])).stdout, "0\n");
  assert.equal((await berth(["logs", "bg"])).stdout, "from-bg\n");
  const created = await berth(["create", "--name", "later", "busybox", "sh", "-c", "echo started; exit 5"]);
  assert.match(created.stdout, /^[0-9a-f]{64}\n$/);
  const inspect = JSON.parse((await berth(["inspect", "later"])).stdout);
  assert.equal(inspect[0].State.Status, "created");
  const started = await berth(["start", "-a", "later"]);
  assert.equal(started.stdout, "started\n");
  assert.equal(started.status, 5);
  await berth(["rm", "-f", "bg", "later"]);
});

test("exec: streams and exit code, -i stdin, -e -w -u, -d", async () => {
  assert.equal((await berth(["run", "-d", "--name", "ex", "busybox", "sleep", "600"])).status, 0);
  try {
    const four = await same(["exec", "ex", "sh", "-c", "echo out; echo err >&2; exit 4"]);
    assert.equal(four.status, 4);
    assert.equal((await same(["exec", "-i", "ex", "cat"], "to exec\n")).stdout, "to exec\n");
    const opts = ["exec", "-e", "A=1", "-w", "/tmp", "-u", "1:1", "ex", "sh", "-c", "echo $A $(pwd) $(id -u)"];
    assert.equal((await same(opts)).stdout, "1 /tmp 1\n");
    const bg = await same(["exec", "-d", "ex", "touch", "/tmp/made"]);
    assert.equal(bg.status, 0);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await berth(["exec", "ex", "ls", "/tmp/made"])).stdout, "/tmp/made\n");
  } finally {
    await berth(["rm", "-f", "ex"]);
  }
});

// The pty driver: runs argv in a pseudo-terminal, then the steps; prints one line a step.
const DRIVER = `
import os, pty, sys, time, select, fcntl, termios, struct, signal, json
steps = json.loads(sys.argv[1]); argv = sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
def size(r, c): fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", r, c, 0, 0))
size(30, 100)
buf = b""
def until(pat, t=60):
    global buf
    end = time.time() + t
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try: data = os.read(fd, 4096)
            except OSError: return False
            if not data: return False
            buf += data
            at = buf.find(pat.encode())
            if at >= 0:
                buf = buf[at + len(pat):]
                return True
    return False
for s in steps:
    if s[0] == "send": os.write(fd, s[1].encode())
    elif s[0] == "expect": print(s[1].strip(), until(s[1]), flush=True)
    elif s[0] == "resize": size(s[1], s[2]); os.kill(pid, signal.SIGWINCH); time.sleep(1)
_, st = os.waitpid(pid, 0)
print("exit", os.waitstatus_to_exitcode(st), flush=True)
`;

function inPty(steps: unknown[], args: string[]) {
  const child = spawn(
    "python3",
    ["-c", DRIVER, JSON.stringify(steps), process.execPath, BERTH, "-H", `unix://${d.socket}`, ...args],
    { stdio: ["ignore", "pipe", "pipe"], env: env(), timeout: 180_000 },
  );
  return outputOf(child);
}

test("-it through a pty: prompt, stty size after a resize, ctrl-p ctrl-q detach, attach, exit 3", async () => {
  const first = await inPty(
    [
      ["expect", "# "],
      ["send", "stty size\r"],
      ["expect", "30 100"],
      ["resize", 40, 120],
      ["send", "stty size\r"],
      ["expect", "40 120"],
      // docker's run says nothing on detach and exits 0.
      ["send", "\x10\x11"],
    ],
    ["run", "-it", "--name", "tty", "busybox", "sh"],
  );
  assert.equal(first.stdout, "# True\n30 100 True\n40 120 True\nexit 0\n", first.stderr);
  const ps = await berth(["ps", "--format", "{{.Names}} {{.State}}"]);
  assert.match(ps.stdout, /^tty running$/m);
  const again = await inPty(
    [
      ["send", "echo back-$((40+2))\r"],
      ["expect", "back-42"],
      ["send", "exit 3\r"],
    ],
    ["attach", "tty"],
  );
  assert.equal(again.stdout, "back-42 True\nexit 3\n", again.stderr);
  assert.equal((await berth(["wait", "tty"])).stdout, "3\n");
  await berth(["rm", "-f", "tty"]);
});

// Bad detach keys are not among them: docker creates the container and the daemon refuses the keys
// on the attach (unit: src/cli/commands/run-detach-keys.test.ts).
test("bad input is refused before anything is sent: unknown flag, --memory 12q, --cpus abc", async () => {
  const rec = await recordingDaemon();
  try {
    for (const args of [
      ["run", "--nosuch", "busybox"],
      ["run", "--memory", "12q", "busybox"],
      ["create", "--cpus", "abc", "busybox"],
      ["exec", "--nosuch", "c", "true"],
    ]) {
      const r = await berth(args, undefined, `unix://${rec.socket}`);
      assert.equal(r.status, 125, `${args.join(" ")}: ${r.stderr}`);
      assert.notEqual(r.stderr, "");
    }
    assert.deepEqual(rec.requests, []);
  } finally {
    await rec.close();
  }
});

describe("a missing image is pulled from a local registry with the config's credentials", () => {
  let reg: LocalRegistry;
  let ref: string;
  before(async () => {
    reg = await startRegistry({ auth: "htpasswd" });
    const archive = join(d.dir, "bb.tar");
    await writeImageArchive(archive, { name: "docker.io/library/bb:1" });
    await seedImage(reg, archive, "tools/bb:1");
    ref = `${reg.host}/tools/bb:1`;
    const auth = Buffer.from(`${reg.username}:${reg.password}`).toString("base64");
    writeFileSync(join(d.dir, "client-config", "config.json"), JSON.stringify({ auths: { [reg.host]: { auth } } }));
  });
  after(async () => {
    await reg?.stop();
  });

  test("run: 'Unable to find image' and the pull's lines on stderr as docker's, then the output", async () => {
    const want = await docker(["run", "--rm", ref, "echo", "pulled"]);
    assert.equal(want.status, 0, want.stderr);
    assert.equal((await docker(["rmi", ref])).status, 0);
    const got = await berth(["run", "--rm", ref, "echo", "pulled"]);
    assert.equal(got.status, 0, got.stderr);
    assert.equal(got.stdout, "pulled\n");
    assert.ok(got.stderr.startsWith(`Unable to find image '${ref}' locally\n`), got.stderr);
    assert.match(got.stderr, /1: Pulling from tools\/bb\n/);
    assert.match(got.stderr, new RegExp(`Status: Downloaded newer image for ${ref.replace(/\./g, "\\.")}\n$`));
    assert.equal(normal(got.stderr), normal(want.stderr));
  });

  test("pull: the same lines as docker pull through a pipe, the full name last; --pull never refuses", async () => {
    assert.equal((await docker(["rmi", ref])).status, 0);
    const never = await berth(["run", "--rm", "--pull", "never", ref, "true"]);
    assert.equal(never.status, 125);
    assert.match(never.stderr, /No such image/);
    const want = await docker(["pull", ref]);
    assert.equal((await docker(["rmi", ref])).status, 0);
    const got = await berth(["pull", ref]);
    assert.equal(got.status, 0, got.stderr);
    assert.equal(got.stdout, want.stdout);
    assert.ok(got.stdout.endsWith(`\n${ref}\n`), got.stdout);
  });
});
