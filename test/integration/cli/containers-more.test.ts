// berth cp, stats, update and commit against the real docker CLI on the SAME berthd: the same
// commands give the same stdout, stderr and exit codes (stats' numbers aside: the shape is
// compared), cp leaves the same files on both sides, and what docker refuses berth refuses in the
// same words. Hostile input: a fake daemon serving archives that try to write outside the
// destination (../ names, a symlink then a path through it, a link out, a hard link out, a
// symlink already in the destination), bad flag values that must send nothing.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { encodePathStat, GO_MODE } from "../../../src/common/archive/path-stat.ts";
import { bareEntry } from "../../../src/common/archive/tar-entry.ts";
import { END_OF_ARCHIVE, encodeHeader, paddingFor, type TarEntry } from "../../../src/common/archive/tar-format.ts";
import { outputOf } from "../../helpers/berth-containerd.ts";
import { type Berthd, berthdWithBusybox, DOCKER_CLI, DOCKER_CLI_20, NEEDS_CLI_28 } from "../../helpers/berthd.ts";
import { recordingDaemon } from "../../helpers/recording-daemon.ts";

const BERTH = process.env.BERTH_CLI ?? join(import.meta.dirname, "..", "..", "..", "dist", "berth.mjs");
let d: Berthd;
let work: string;

before(async () => {
  d = await berthdWithBusybox();
  work = await mkdtemp(join(tmpdir(), "berth-cpx-"));
  const script = [
    "mkdir -p /d/sub /up/exist",
    "echo hi > /d/a",
    "echo b > /d/sub/b",
    "ln -s /etc/passwd /d/link",
    "ln -s a /d/rel",
    "ln -s sub /d/sublink",
    "sleep 1000",
  ].join("; ");
  await d.docker(["run", "-d", "--name", "web", "-m", "64m", "busybox", "sh", "-c", script]);
  await d.docker(["create", "--name", "fresh", "busybox", "true"]);
  // The files exist once the shell got past them.
  for (let i = 0; i < 50 && (await d.docker(["exec", "web", "test", "-L", "/d/sublink"])).status !== 0; i++)
    await new Promise((r) => setTimeout(r, 100));
});
after(async () => {
  await d?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

function berth(args: string[], opts: { host?: string; stdin?: Buffer } = {}) {
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    DOCKER_CONFIG: join(d.dir, "client-config"),
  };
  env.DOCKER_API_VERSION = DOCKER_CLI === DOCKER_CLI_20 ? "1.41" : "";
  const child = spawn(process.execPath, [BERTH, "-H", opts.host ?? `unix://${d.socket}`, ...args], {
    stdio: [opts.stdin ? "pipe" : "ignore", "pipe", "pipe"],
    env,
    timeout: 60_000,
  });
  if (opts.stdin) child.stdin?.end(opts.stdin);
  return outputOf(child);
}

function docker(args: string[], stdin?: Buffer) {
  if (!stdin) return d.docker(args);
  const child = spawn(DOCKER_CLI, ["-H", `unix://${d.socket}`, ...args], {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, DOCKER_CONFIG: join(d.dir, "client-config"), DOCKER_API_VERSION: "" },
    timeout: 60_000,
  });
  child.stdin?.end(stdin);
  return outputOf(child);
}

/** What may differ: the program's name, docker's logrus lines about its own closed pipe, paths of the two runs. */
function normal(s: string, mine = "", theirs = ""): string {
  return s
    .split("\n")
    .filter((l) => !l.startsWith("time="))
    .join("\n")
    .replaceAll(theirs || "\0", "P")
    .replaceAll(mine || "\0", "P")
    .replaceAll("docker", "X")
    .replaceAll("berth", "X")
    .replaceAll("Error response from daemon: No such ", "Error: No such ");
}

/** Cases where docker 20.10 words things its own way (a 404 of its own, an older restart parser):
 * berth follows docker 28, so with 20.10 only the exit code is compared. */
const WORDS_28 = [/^web:\/nosuch$/, /^nosuch:/, /^:3$/, /^on-failure:x$/, /^json$/, /Bad/, /@sha256:/, / tag$/];

async function same(args: string[], pair?: { mine: string; theirs: string }): Promise<void> {
  if (DOCKER_CLI === DOCKER_CLI_20 && args.some((a) => WORDS_28.some((w) => w.test(a)))) {
    if (args.includes(":3")) return; // 20.10 sends it and the daemon takes it: no exit code to compare
    const want = await docker(pair ? args.map((a) => a.replaceAll("@", pair.theirs)) : args);
    const got = await berth(pair ? args.map((a) => a.replaceAll("@", pair.mine)) : args);
    assert.equal(got.status, want.status, `exit code of ${args.join(" ")}`);
    return;
  }
  const want = await docker(pair ? args.map((a) => a.replaceAll("@", pair.theirs)) : args);
  const got = await berth(pair ? args.map((a) => a.replaceAll("@", pair.mine)) : args);
  const n = (s: string) => normal(s, pair?.mine, pair?.theirs);
  assert.equal(n(got.stdout), n(want.stdout), `stdout of ${args.join(" ")}`);
  assert.equal(n(got.stderr), n(want.stderr), `stderr of ${args.join(" ")}`);
  assert.equal(got.status, want.status, `exit code of ${args.join(" ")}`);
}

/** Every path under `root` with its type, mode, size and link target. */
function tree(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    const st = lstatSync(join(root, rel));
    const kind = st.isDirectory() ? "d" : st.isSymbolicLink() ? `l->${readlinkSync(join(root, rel))}` : "f";
    out.push(`${rel} ${kind} ${(st.mode & 0o7777).toString(8)} ${st.isFile() ? st.size : ""}`);
    if (st.isDirectory()) for (const c of listDir(join(root, rel))) walk(rel === "" ? c : `${rel}/${c}`);
  };
  walk("");
  return out.sort();
}
function listDir(p: string): string[] {
  return readdirSync(p).sort();
}

test("cp container -> host: the same files and errors as docker's (dirs, /., existing dirs, -L, rebased names)", async () => {
  const mine = join(work, "mine");
  const theirs = join(work, "theirs");
  mkdirSync(join(mine, "d3"), { recursive: true });
  mkdirSync(join(theirs, "d3"), { recursive: true });
  const pair = { mine, theirs };
  for (const args of [
    ["cp", "web:/d", "@/d1"],
    ["cp", "web:/d/.", "@/d2"],
    ["cp", "web:/d", "@/d3"],
    ["cp", "web:/d/a", "@/a1"],
    ["cp", "web:/d/a", "@/d3/"],
    ["cp", "web:/d/link", "@/l1"],
    ["cp", "-L", "web:/d/rel", "@/l2"],
    ["cp", "-L", "web:/d/sublink", "@/l3"],
    ["cp", "web:/d/a", "@/nodir/"],
    ["cp", "web:/d", "@/a1"],
    ["cp", "web:/nosuch", "@/x"],
    ["cp", "web:/d/a", "@/missing/deeper"],
    ["cp", "web:/d/a", "/dev/null"],
    ["container", "cp", "web:/d/sub/b", "@/d3/d"],
    ["cp", "a", "b"],
    ["cp", "web:/a", "web:/b"],
    ["cp", "", "web:/b"],
    ["cp", "nosuch:/a", "@/z"],
  ]) {
    await same(args, pair);
  }
  assert.deepEqual(tree(mine), tree(theirs));
  assert.ok(tree(mine).includes("d1/link l->/etc/passwd 777 "), "a symlink is copied as a symlink");
  // A tar to stdout: the same member names.
  const want = await docker(["cp", "web:/d", "-"]);
  const got = await berth(["cp", "web:/d", "-"]);
  assert.equal(got.status, 0);
  assert.equal(got.stdout.length, want.stdout.length);
});

test("cp host -> container: the same files in the container and the same errors (tar on stdin too)", async () => {
  const src = join(work, "src");
  mkdirSync(join(src, "tree", "sub"), { recursive: true });
  writeFileSync(join(src, "tree", "f"), "one\n");
  writeFileSync(join(src, "tree", "sub", "g"), "two\n");
  symlinkSync("f", join(src, "tree", "lnk"));
  symlinkSync("tree", join(src, "treelink"));
  writeFileSync(join(src, "single"), "single\n");
  // Big enough that a daemon refusing at once (no such container) closes before it is sent.
  writeFileSync(join(src, "big"), Buffer.alloc(8 << 20, 7));
  const tar = Buffer.concat([
    encodeHeader(bareEntry({ name: "fromtar", type: "file", mode: 0o640, size: 3, mtime: 1 })),
    Buffer.from("abc"),
    Buffer.alloc(paddingFor(3)),
    END_OF_ARCHIVE,
  ]);
  for (const who of ["mine", "theirs"] as const) {
    await d.docker(["exec", "web", "mkdir", "-p", `/${who}/exist`]);
  }
  const pair = { mine: "/mine", theirs: "/theirs" };
  for (const args of [
    ["cp", `${src}/tree`, "web:@/t1"],
    ["cp", `${src}/tree/.`, "web:@/t2"],
    ["cp", `${src}/tree`, "web:@/exist"],
    ["cp", `${src}/single`, "web:@/s1"],
    ["cp", `${src}/single`, "web:@/exist/"],
    ["cp", `${src}/single`, "web:@/nodir/"],
    ["cp", `${src}/treelink`, "web:@/tl"],
    ["cp", "-L", `${src}/treelink`, "web:@/tl2"],
    ["cp", `${src}/tree`, "web:@/s1"],
    ["cp", `${src}/nosuch`, "web:@/x"],
    ["cp", "-a", `${src}/single`, "web:@/s2"],
    ["cp", `${src}/single`, "nosuch:/x"],
    ["cp", `${src}/big`, "nosuch:/x"],
  ]) {
    await same(args, pair);
  }
  for (const [dest, code] of [
    ["exist", 0],
    ["s1", 1],
  ] as const) {
    const want = await docker(["cp", "-", `web:/theirs/${dest}`], tar);
    const got = await berth(["cp", "-", `web:/mine/${dest}`], { stdin: tar });
    assert.equal(got.status, code);
    assert.equal(got.status, want.status);
    assert.equal(normal(got.stderr, "/mine", "/theirs"), normal(want.stderr, "/mine", "/theirs"));
  }
  const list = async (root: string) =>
    (await d.docker(["exec", "web", "sh", "-c", `cd ${root} && find . | sort | xargs ls -ld`])).stdout
      .split("\n")
      .map((l) =>
        l
          .split(/\s+/)
          .filter((_, i) => i === 0 || i === 4 || i >= 8)
          .join(" "),
      );
  const theirsList = await list("/theirs");
  assert.deepEqual(await list("/mine"), theirsList);
  assert.ok(theirsList.some((l) => l.includes("./exist/fromtar")));
});

test("cp on a terminal: docker 28's 'Successfully copied N to X' on stderr, both ways", {
  skip: NEEDS_CLI_28,
}, async () => {
  // script(1) gives both a pseudo-terminal; what they print is compared with the paths made alike.
  const inPty = async (cmd: string) => {
    const child = spawn("script", ["-qfec", cmd, "/dev/null"], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, DOCKER_CONFIG: join(d.dir, "client-config"), DOCKER_API_VERSION: "" },
    });
    return (await outputOf(child)).stdout.replaceAll("\r", "");
  };
  const src = join(work, "pty-src");
  mkdirSync(src);
  writeFileSync(join(src, "f"), "x".repeat(3000));
  for (const [from, to] of [
    ["web:/d", join(work, "pty-@")],
    [src, "web:/pty-@"],
  ] as const) {
    const want = await inPty(`${DOCKER_CLI} -H unix://${d.socket} cp ${from} ${to.replace("@", "theirs")}`);
    const got = await inPty(`${process.execPath} ${BERTH} -H unix://${d.socket} cp ${from} ${to.replace("@", "mine")}`);
    assert.match(want, /^Successfully copied [\d.]+kB to /);
    assert.equal(got.replace("mine", "theirs"), want);
  }
});

test("stats --no-stream: docker's table shape, json keys, template fields; errors as docker's", async () => {
  const shape = (s: string) =>
    s
      .replace(/\d+(\.\d+)?%/g, "N%")
      .replace(/\d+(\.\d+)?([KMGT]i?)?B/g, "NB")
      .replace(/ {2,}/g, "  ");
  for (const args of [
    ["stats", "--no-stream"],
    ["stats", "--no-stream", "-a"],
    ["stats", "--no-stream", "--no-trunc", "web"],
    ["container", "stats", "--no-stream", "fresh"],
    ...(DOCKER_CLI === DOCKER_CLI_20 ? [] : [["stats", "--no-stream", "--format", "json", "web"]]),
    ["stats", "--no-stream", "-a", "--format", "{{.Container}} {{.Name}} {{.ID}} {{.PIDs}}"],
    ["stats", "--no-stream", "--format", "table {{.Container}}\t{{.MemUsage}}", "web", "fresh"],
  ]) {
    const want = await d.docker(args);
    const got = await berth(args);
    assert.equal(got.status, want.status, args.join(" "));
    assert.equal(shape(got.stdout), shape(want.stdout), args.join(" "));
    assert.equal(got.stderr, want.stderr, args.join(" "));
  }
  // The limit -m 64m gives, and the memory docker counts (without inactive file pages).
  const got = await berth(["stats", "--no-stream", "--format", "{{.MemUsage}}", "web"]);
  assert.match(got.stdout, /^[\d.]+[KM]iB \/ 64MiB\n$/);
  await same(["stats", "--no-stream", "nosuch"]);
  await same(["stats", "--no-stream", "web", "nosuch"]);
  await same(["stats", "--no-stream", "--format", "{{.Nope", "web"]);
});

test("stats: a live table redrawn in place, docker 28's way (home, lines erased, the rest cleared)", async () => {
  const child = spawn(process.execPath, [BERTH, "-H", `unix://${d.socket}`, "stats", "web"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (c: Buffer) => {
    out += c.toString();
  });
  await new Promise((r) => setTimeout(r, 2500));
  child.kill("SIGINT");
  await new Promise((r) => child.on("close", r));
  const frames = out.split("\x1b[H").slice(1);
  assert.ok(frames.length >= 3, `frames: ${frames.length}`);
  for (const f of frames) {
    assert.match(f, /^CONTAINER ID +NAME +CPU % .*\x1b\[K\n[0-9a-f]{12} +web .*\x1b\[K\n\x1b\[J$/s);
  }
});

test("stats with no names follows the daemon: a container started meanwhile appears, one that dies goes", async () => {
  const child = spawn(process.execPath, [BERTH, "-H", `unix://${d.socket}`, "stats", "--format", "{{.Name}}"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (c: Buffer) => {
    out += c.toString();
  });
  const lastFrame = () => out.split("\x1b[H").at(-1) ?? "";
  const waitFor = async (ok: () => boolean, what: string) => {
    for (let i = 0; i < 100 && !ok(); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(ok(), `${what}: ${JSON.stringify(lastFrame())}`);
  };
  try {
    await waitFor(() => /^web\x1b\[K\n/.test(lastFrame()), "web shown");
    await d.docker(["run", "-d", "--name", "late", "busybox", "sleep", "60"]);
    await waitFor(() => lastFrame().includes("late"), "late shown after it started");
    await d.docker(["rm", "-f", "late"]);
    await waitFor(() => !lastFrame().includes("late") && lastFrame().includes("web"), "late gone after it died");
  } finally {
    child.kill("SIGINT");
    await new Promise((r) => child.on("close", r));
  }
});

test("stats of a named container that goes away: its columns show '--', as docker's", async () => {
  await d.docker(["run", "-d", "--name", "gone", "busybox", "sleep", "60"]);
  const child = spawn(process.execPath, [BERTH, "-H", `unix://${d.socket}`, "stats", "gone"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (c: Buffer) => {
    out += c.toString();
  });
  const lastFrame = () => out.split("\x1b[H").at(-1) ?? "";
  try {
    for (let i = 0; i < 100 && !/gone +\d/.test(lastFrame()); i++) await new Promise((r) => setTimeout(r, 100));
    await d.docker(["rm", "-f", "gone"]);
    for (let i = 0; i < 100 && !lastFrame().includes("-- / --"); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(lastFrame(), /gone +-- +-- \/ -- +-- +-- +-- +--\x1b\[K\n/);
  } finally {
    child.kill("SIGINT");
    await new Promise((r) => child.on("close", r));
  }
});

test("update: docker's output, daemon errors and exit codes; the limits reach the container", async () => {
  for (const args of [
    ["update", "web"],
    ["update", "--memory", "96m", "web", "fresh", "nosuch"],
    ["update", "--restart", "bogus", "web"],
    ["update", "--restart", ":3", "web"],
    ["update", "--restart", "on-failure:x", "web"],
    ["update", "--memory-swap", "128m", "fresh"],
    ["update", "--memory", "1m", "web"],
    ["container", "update", "--pids-limit", "50", "--cpu-shares", "512", "--cpus", "0.5", "web"],
    [
      "update",
      "--memory",
      "100m",
      "--memory-swap",
      "200m",
      "--memory-reservation",
      "50m",
      "--restart",
      "on-failure:3",
      "web",
    ],
  ]) {
    await same(args);
  }
  const r = await d.docker([
    "inspect",
    "-f",
    "{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.PidsLimit}} {{.HostConfig.NanoCpus}} {{.HostConfig.RestartPolicy.Name}}",
    "web",
  ]);
  assert.equal(r.stdout, "104857600 209715200 50 500000000 on-failure\n");
  // A bad value: docker's first line and 125, from both CLIs.
  for (const args of [
    ["update", "--cpus", "abc", "web"],
    ["update", "--memory", "abc", "web"],
    ["update", "--pids-limit", "x", "web"],
  ]) {
    const want = await d.docker(args);
    const got = await berth(args);
    assert.equal(got.status, 125);
    assert.equal(got.status, want.status);
    assert.equal(normal(got.stderr).split("\n")[0], normal(want.stderr).split("\n")[0]);
  }
});

test("commit: prints the new image's id; -c, -m, -a reach the image; docker's refusals", async () => {
  const got = await berth([
    "commit",
    "-c",
    "ENV A=1",
    "-c",
    "LABEL x=y",
    "-m",
    "the msg",
    "-a",
    "me",
    "web",
    "snap:v1",
  ]);
  assert.equal(got.stderr, "");
  assert.match(got.stdout, /^sha256:[0-9a-f]{64}\n$/);
  const r = await d.docker([
    "image",
    "inspect",
    "-f",
    '{{.Id}} {{.Comment}} {{.Author}} {{index .Config.Labels "x"}} {{.Config.Env}}',
    "snap:v1",
  ]);
  assert.equal(r.status, 0);
  assert.ok(r.stdout.startsWith(`${got.stdout.trim()} the msg me y [`), r.stdout);
  assert.match(r.stdout, /A=1/);
  const plain = await berth(["container", "commit", "-p=false", "fresh"]);
  assert.match(plain.stdout, /^sha256:[0-9a-f]{64}\n$/);
  await same(["commit", "nosuch"]);
  // cobra's range words (docker 28's layout; 20.10 words it its own way): exit 1 from both.
  const none = await berth(["commit"]);
  assert.equal(none.status, 1);
  assert.equal(none.stderr.split("\n")[0], "berth: 'berth commit' requires at least 1 and at most 2 arguments");
  assert.equal((await d.docker(["commit"])).status, 1);
  // docker 28's words (20.10 names no repository in the lowercase one): exit 1 from both.
  for (const ref of [
    "Bad:x",
    "my/Bad",
    "localhost:5000/Bad",
    `x@sha256:${"a".repeat(64)}`,
    "x@sha256:abc",
    "x:bad tag",
  ]) {
    await same(["commit", "web", ref]);
  }
});

test("bad flag values and arguments send nothing to the daemon", async () => {
  const rec = await recordingDaemon();
  try {
    for (const args of [
      ["update", "--memory", "12q", "x"],
      ["update", "--cpus", "abc", "x"],
      ["update", "--blkio-weight", "70000", "x"],
      ["update", "x"],
      ["update", "--restart", ":1", "x"],
      ["commit"],
      ["commit", "x", "y", "z"],
      ["commit", "x", "Bad"],
      ["cp", "x:/a"],
      ["cp", "a", "b"],
      ["cp", "x:/a", "y:/b"],
      ["stats", "--no-stream", "--format", "{{.Nope"],
      ["stats", "--bogus"],
    ]) {
      const before = rec.requests.filter((q) => q.path !== "/_ping").length;
      const r = await berth(args, { host: rec.host });
      assert.notEqual(r.status, 0, args.join(" "));
      assert.equal(rec.requests.filter((q) => q.path !== "/_ping").length, before, `${args.join(" ")} sent something`);
    }
  } finally {
    await rec.close();
  }
});

// ---- a daemon serving hostile archives ----

function member(e: Partial<TarEntry> & Pick<TarEntry, "name" | "type">, data = ""): Buffer {
  const body = Buffer.from(data);
  return Buffer.concat([
    encodeHeader(bareEntry({ mode: 0o644, mtime: 1, ...e, size: e.type === "file" ? body.length : 0 })),
    body,
    Buffer.alloc(paddingFor(body.length)),
  ]);
}

async function hostileDaemon(archive: () => Buffer, isDir = true) {
  const dir = await mkdtemp(join(tmpdir(), "berth-hostile-"));
  const socket = join(dir, "d.sock");
  const server = createServer((req, res) => {
    res.setHeader("Api-Version", "1.41");
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname === "/_ping") return res.end("OK");
    if (/\/containers\/x\/archive$/.test(url.pathname)) {
      const stat = { name: "d", size: 0, mode: isDir ? GO_MODE.dir + 0o755 : 0o644, mtime: "", linkTarget: "" };
      res.setHeader("X-Docker-Container-Path-Stat", encodePathStat(stat));
      res.setHeader("Content-Type", "application/x-tar");
      return res.end(req.method === "HEAD" ? undefined : Buffer.concat([archive(), END_OF_ARCHIVE]));
    }
    res.statusCode = 404;
    res.end(JSON.stringify({ message: "no" }));
  });
  await new Promise<void>((r) => server.listen(socket, r));
  return {
    host: `unix://${socket}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test("cp from a hostile daemon never writes outside the destination", async () => {
  const base = await mkdtemp(join(tmpdir(), "berth-cp-hostile-"));
  const outside = join(base, "outside");
  mkdirSync(outside);
  const cases: { name: string; tar: Buffer; pre?: (dest: string) => void }[] = [
    { name: "a ../ name", tar: member({ name: "d/../../escaped", type: "file" }, "x") },
    {
      name: "an absolute symlink, then a file through it",
      tar: Buffer.concat([
        member({ name: "d/link", type: "symlink", linkname: outside }),
        member({ name: "d/link/pwned", type: "file" }, "x"),
      ]),
    },
    {
      name: "a relative symlink out",
      tar: Buffer.concat([
        member({ name: "d/up", type: "symlink", linkname: "../../../outside" }),
        member({ name: "d/up/pwned", type: "file" }, "x"),
      ]),
    },
    { name: "a hard link out", tar: member({ name: "d/h", type: "hardlink", linkname: "../../outside/target" }) },
    {
      name: "a symlink already in the destination",
      tar: member({ name: "d/pre/pwned", type: "file" }, "x"),
      pre: (dest) => {
        mkdirSync(join(dest, "d"), { recursive: true });
        symlinkSync(outside, join(dest, "d", "pre"));
      },
    },
    {
      name: "a file replacing a symlink is written in its place, not through it",
      tar: member({ name: "d/over", type: "file" }, "mine"),
      pre: (dest) => {
        mkdirSync(join(dest, "d"), { recursive: true });
        symlinkSync(join(outside, "target"), join(dest, "d", "over"));
      },
    },
    {
      name: "a PAX record past 1 MiB",
      tar: Buffer.concat([paxHeader(2 * 1024 * 1024), member({ name: "d/f", type: "file" }, "x")]),
    },
  ];
  writeFileSync(join(outside, "target"), "keep");
  try {
    for (const c of cases) {
      const dest = join(base, `dest-${cases.indexOf(c)}`);
      mkdirSync(dest);
      c.pre?.(dest);
      const daemon = await hostileDaemon(() => c.tar);
      try {
        const r = await berth(["cp", "x:/d", dest], { host: daemon.host });
        if (c.name.startsWith("a file replacing")) {
          assert.equal(r.status, 0, r.stderr);
          assert.equal(readFileSync(join(dest, "d", "over"), "utf8"), "mine");
        } else {
          assert.equal(r.status, 1, `${c.name}: ${r.stderr}`);
          assert.ok(r.stderr.length > 0 && r.stderr.length < 2000, c.name);
        }
      } finally {
        await daemon.close();
      }
      assert.equal(existsSync(join(base, "escaped")), false, c.name);
      assert.deepEqual(listDir(outside), ["target"], c.name);
      assert.equal(readFileSync(join(outside, "target"), "utf8"), "keep", c.name);
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

/** An extended header claiming `size` bytes (its data follows, so only its size is hostile). */
function paxHeader(size: number): Buffer {
  const h = Buffer.alloc(512);
  h.write("PaxHeaders/x", 0);
  h.write("0000644\0", 100);
  h.write("0000000\0", 108);
  h.write("0000000\0", 116);
  h.write(`${size.toString(8).padStart(11, "0")}\0`, 124);
  h.write("00000000000\0", 136);
  h.write("x", 156);
  h.write("ustar\x0000", 257);
  h.fill(" ", 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
  return Buffer.concat([h, Buffer.alloc(size)]);
}
