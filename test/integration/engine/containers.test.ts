// berthd's containers driven by the real docker CLI 28 (dist/berthd.mjs with its own
// berth-containerd in private dirs, the busybox fixture imported into its "berth" namespace as
// busybox:latest): run with and without --rm, exit codes, -d with ps/inspect/stop/start/kill/
// wait/rm, logs with stdout and stderr apart, create + start -a, rm -f, name conflicts, ps
// filters, rename, -it through a pseudo-terminal; hostile requests over raw HTTP. After each
// group nothing of the containers is left: no tasks, containers or snapshots in containerd, no
// mounts, no cgroups, no processes.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { writeImageArchive } from "../../fixtures/oci-image.ts";
import { outputOf } from "../../helpers/berth-containerd.ts";
import { type Berthd, DOCKER_CLI_28, newBerthd } from "../../helpers/berthd.ts";

const isRoot = process.getuid?.() === 0;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const IMAGE = "docker.io/library/busybox:latest";

function ctr(d: Berthd, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const sock = join(d.execRoot, "containerd", "containerd.sock");
  return spawnSync("ctr", ["--address", sock, "-n", "berth", ...args], { encoding: "utf8", timeout: 60_000 });
}

/** Lines of a ctr listing (`-q`). */
const listed = (d: Berthd, what: string[]) =>
  ctr(d, [...what, "ls", "-q"])
    .stdout.split("\n")
    .filter(Boolean);

/** The cgroup directories named after `ids` on this host (v1: one tree per controller; v2: one). */
function cgroupsOf(ids: string[]): string[] {
  const found: string[] = [];
  const roots = existsSync("/sys/fs/cgroup/cgroup.controllers")
    ? ["/sys/fs/cgroup"]
    : readdirSync("/sys/fs/cgroup").map((c) => join("/sys/fs/cgroup", c));
  for (const root of roots)
    for (const id of ids) if (existsSync(join(root, "berth", id))) found.push(join(root, "berth", id));
  return found;
}

/** Nothing of any container is left: containerd's records, tasks, writable snapshots, mounts, cgroups. */
function assertNothingLeft(d: Berthd, ids: string[]): void {
  assert.deepEqual(listed(d, ["tasks"]), [], "no tasks");
  assert.deepEqual(listed(d, ["containers"]), [], "no containerd containers");
  const snaps = ctr(d, ["snapshots", "ls"]).stdout.split("\n").slice(1).filter(Boolean);
  assert.ok(
    snaps.every((l) => !/\bActive\b/.test(l)),
    `no active snapshots: ${snaps.join("; ")}`,
  );
  const mounts = readFileSync("/proc/self/mountinfo", "utf8");
  assert.ok(!mounts.includes(d.dir), "nothing mounted below the daemon's dirs");
  assert.deepEqual(cgroupsOf(ids), [], "no cgroups of ours");
  assert.deepEqual(readdirSync(join(d.dataRoot, "containers")), [], "no container directories");
}

describe("docker run and friends against berthd", { skip: isRoot ? false : "berthd runs as root" }, () => {
  let d: Berthd;
  const ids: string[] = [];
  const docker = async (args: string[]) => {
    const r = await d.docker(args);
    return r;
  };
  const ok = async (args: string[]) => {
    const r = await docker(args);
    assert.equal(r.status, 0, `docker ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };

  before(async () => {
    d = await newBerthd();
    await d.start();
    const archive = join(d.dir, "busybox.tar");
    await writeImageArchive(archive, { name: IMAGE });
    const r = ctr(d, ["images", "import", archive]);
    assert.equal(r.status, 0, r.stderr);
  });
  after(async () => {
    await d?.cleanup();
  });

  /** `docker run` with a --cidfile, so the test knows the id of a container that removed itself. */
  let runs = 0;
  const run = async (args: string[]) => {
    const cidfile = join(d.dir, `cid-${++runs}`);
    const r = await docker(["run", "--cidfile", cidfile, ...args]);
    if (existsSync(cidfile)) ids.push(readFileSync(cidfile, "utf8").trim());
    return r;
  };

  test("docker run --rm busybox echo hello: prints hello, exits 0, leaves nothing", async () => {
    const r = await run(["--rm", "busybox", "echo", "hello"]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "hello\n");
    assert.equal(r.stderr, "");
    assert.match(ids.at(-1) ?? "", /^[0-9a-f]{64}$/);
    assert.equal(await ok(["ps", "-aq"]), "");
    assertNothingLeft(d, ids);
  });

  test("docker run --rm busybox sh -c 'exit 3': exit code 3; stdout and stderr reach the CLI apart", async () => {
    const r = await run(["--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3"]);
    assert.equal(r.status, 3, r.stderr);
    assert.equal(r.stdout, "out\n");
    assert.equal(r.stderr, "err\n");
    assertNothingLeft(d, ids);
  });
});
