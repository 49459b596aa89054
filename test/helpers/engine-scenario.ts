// The main scenario of berthd's containers with the real docker CLI, written once and run on
// each containerd berthd can use: its own berth-containerd (test/integration/engine/
// containers.test.ts) and Debian's containerd 1.6 with berth-shim as containerd-shim-berth-v1
// (test/interop/berthd-on-containerd.test.ts). run --rm with output and exit codes; run -d, ps,
// inspect, top, stop (StopSignal, then SIGKILL), start, restart, kill, wait, rm; logs with the
// streams apart, --tail, -f; create + start -a; rm -f; images (ls, inspect, tag, rmi, save/load).
// After each group nothing of the containers is left: no tasks, containers or active snapshots in
// containerd, no mounts below the daemon's dir, no cgroups, no processes, no container dirs.
import assert from "node:assert/strict";
import type { SpawnSyncReturns } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { Berthd, CommandResult } from "./berthd.ts";

/** A berthd under test and the containerd behind it. */
export interface ScenarioEngine {
  d: Berthd;
  /** berthd's containerd namespace (its containers' cgroups are /<namespace>/<id>). */
  namespace: string;
  /** `ctr` against berthd's containerd, in that namespace. */
  ctr(args: string[]): SpawnSyncReturns<string>;
  /** Every container id a test made (checked to be gone). */
  ids: string[];
  /** Where containerd mounts rootfses when it is not berthd's own (nothing may stay mounted there). */
  containerdDir?: string;
}

/** Lines of a ctr listing (`-q`). */
const listed = (e: ScenarioEngine, what: string[]) =>
  e
    .ctr([...what, "ls", "-q"])
    .stdout.split("\n")
    .filter(Boolean);

/** The cgroup directories of `ids` under /<namespace> (v1: one tree per controller; v2: one). */
export function cgroupsOf(namespace: string, ids: string[]): string[] {
  const found: string[] = [];
  const roots = existsSync("/sys/fs/cgroup/cgroup.controllers")
    ? ["/sys/fs/cgroup"]
    : readdirSync("/sys/fs/cgroup").map((c) => join("/sys/fs/cgroup", c));
  for (const root of roots)
    for (const id of ids) if (existsSync(join(root, namespace, id))) found.push(join(root, namespace, id));
  return found;
}

/** Processes whose cgroup names one of `ids`. */
export function processesIn(ids: string[]): number[] {
  const out: number[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const cg = readFileSync(`/proc/${e}/cgroup`, "utf8");
      if (ids.some((id) => cg.includes(id))) out.push(Number(e));
    } catch {}
  }
  return out;
}

/** Nothing of any container is left: containerd's records, tasks, writable snapshots, mounts, cgroups. */
export function assertNothingLeft(e: ScenarioEngine): void {
  const { d, ids } = e;
  assert.deepEqual(listed(e, ["tasks"]), [], "no tasks");
  assert.deepEqual(listed(e, ["containers"]), [], "no containerd containers");
  const snaps = e.ctr(["snapshots", "ls"]).stdout.split("\n").slice(1).filter(Boolean);
  assert.ok(
    snaps.every((l) => !/\bActive\b/.test(l)),
    `no active snapshots: ${snaps.join("; ")}`,
  );
  const mounts = readFileSync("/proc/self/mountinfo", "utf8");
  for (const dir of [d.dir, e.containerdDir ?? d.dir]) {
    assert.ok(!mounts.includes(dir), `nothing mounted below ${dir}`);
  }
  assert.deepEqual(cgroupsOf(e.namespace, ids), [], "no cgroups of ours");
  assert.deepEqual(readdirSync(join(d.dataRoot, "containers")), [], "no container directories");
  assert.deepEqual(processesIn(ids), [], "no processes in the containers' cgroups");
}

/**
 * Registers the scenario's tests in the caller's describe(). `engine` is called when a test runs
 * (the caller starts berthd in before()); the busybox fixture must be there as busybox:latest.
 */
export function containerScenario(engine: () => ScenarioEngine): void {
  const e = engine;
  const ids = {
    push: (...more: string[]) => e().ids.push(...more),
    at: (i: number) => e().ids.at(i),
  };
  const docker = (args: string[]): Promise<CommandResult> => e().d.docker(args);
  const ok = async (args: string[]) => {
    const r = await docker(args);
    assert.equal(r.status, 0, `docker ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  const nothingLeft = () => assertNothingLeft(e());
  /** `docker run` with a --cidfile, so the test knows the id of a container that removed itself. */
  let runs = 0;
  const run = async (args: string[]) => {
    const cidfile = join(e().d.dir, `cid-scenario-${++runs}`);
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
    nothingLeft();
  });

  test("docker run --rm busybox sh -c 'exit 3': exit code 3; stdout and stderr reach the CLI apart", async () => {
    const r = await run(["--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3"]);
    assert.equal(r.status, 3, r.stderr);
    assert.equal(r.stdout, "out\n");
    assert.equal(r.stderr, "err\n");
    nothingLeft();
  });

  test("run -d, ps, inspect, stop (StopSignal, then SIGKILL after the timeout), start, kill, wait, rm", async () => {
    const id = (await ok(["run", "-d", "--name", "web", "busybox", "sleep", "600"])).trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    ids.push(id);
    const ps = await ok(["ps", "--format", "{{.ID}} {{.Names}} {{.Image}} {{.Command}} {{.Status}}"]);
    assert.match(ps, new RegExp(`^${id.slice(0, 12)} web busybox "sleep 600" Up `));
    const inspect = JSON.parse(await ok(["inspect", "web"]))[0];
    assert.equal(inspect.Id, id);
    assert.equal(inspect.Name, "/web");
    assert.equal(inspect.State.Status, "running");
    assert.equal(inspect.State.Running, true);
    assert.ok(inspect.State.Pid > 0);
    assert.equal(inspect.Path, "sleep");
    assert.deepEqual(inspect.Args, ["600"]);
    assert.equal(inspect.Config.Image, "busybox");
    assert.equal(inspect.Config.Hostname, id.slice(0, 12));
    assert.ok(existsSync(`/proc/${inspect.State.Pid}`), "the container's process runs");
    assert.ok(cgroupsOf(e().namespace, [id]).length > 0, "its cgroup exists while it runs");
    assert.ok(processesIn([id]).includes(inspect.State.Pid), "its process is in its cgroup");
    const top = await ok(["top", "web"]);
    assert.match(top, /^UID\s+PID\s+PPID/);
    assert.match(top, new RegExp(`\\n\\S+\\s+${inspect.State.Pid}\\s.*sleep 600\\n`));
    assert.equal(top.trim().split("\n").length, 2, "only the container's process");
    const badTop = await e().d.http("GET", "/containers/web/top?ps_args=-ef%3Bid");
    assert.equal(badTop.status, 400);
    // sleep as pid 1 ignores SIGTERM: stop waits its timeout and kills.
    const t0 = Date.now();
    assert.equal(await ok(["stop", "-t", "1", "web"]), "web\n");
    assert.ok(Date.now() - t0 >= 900, "stop waited for the timeout");
    let state = JSON.parse(await ok(["inspect", "--format", "{{json .State}}", "web"]));
    assert.equal(state.Status, "exited");
    assert.equal(state.ExitCode, 137);
    assert.notEqual(state.FinishedAt, "0001-01-01T00:00:00Z");
    // The image's or the request's StopSignal is what stop sends first: one the process acts on
    // ends it before the timeout.
    const trapper = (
      await ok([
        "run",
        "-d",
        "--stop-signal",
        "SIGUSR1",
        "busybox",
        "sh",
        "-c",
        "trap 'exit 9' USR1; while :; do sleep 0.2; done",
      ])
    ).trim();
    ids.push(trapper);
    const t1 = Date.now();
    await ok(["stop", "-t", "30", trapper]);
    assert.ok(Date.now() - t1 < 10_000, "SIGUSR1 ended it before the timeout");
    state = JSON.parse(await ok(["inspect", "--format", "{{json .State}}", trapper]));
    assert.equal(state.ExitCode, 9);
    assert.equal(JSON.parse(await ok(["inspect", "--format", "{{json .Config.StopSignal}}", trapper])), "SIGUSR1");
    await ok(["rm", trapper]);
    assert.equal(await ok(["start", "web"]), "web\n");
    const pidBefore = JSON.parse(await ok(["inspect", "--format", "{{json .State.Pid}}", "web"]));
    assert.equal(await ok(["restart", "-t", "0", "web"]), "web\n");
    const restarted = JSON.parse(await ok(["inspect", "--format", "{{json .State}}", "web"]));
    assert.equal(restarted.Status, "running");
    assert.notEqual(restarted.Pid, pidBefore, "a new process");
    assert.equal(await ok(["kill", "web"]), "web\n");
    assert.equal(await ok(["wait", "web"]), "137\n");
    const again = await docker(["kill", "web"]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, new RegExp(`Cannot kill container: web: Container ${id} is not running`));
    assert.equal(await ok(["rm", "web"]), "web\n");
    const gone = await docker(["inspect", "web"]);
    assert.equal(gone.status, 1);
    assert.match(gone.stderr, /No such (container|object): web/);
    nothingLeft();
  });

  test("logs keeps stdout and stderr apart; create + start -a; rm -f of a running one", async () => {
    const id = (await ok(["run", "-d", "busybox", "sh", "-c", "echo out; echo err >&2"])).trim();
    ids.push(id);
    assert.equal(await ok(["wait", id]), "0\n");
    const logs = await docker(["logs", id]);
    assert.equal(logs.status, 0, logs.stderr);
    assert.equal(logs.stdout, "out\n");
    assert.equal(logs.stderr, "err\n");
    const tail = await docker(["logs", "--tail", "1", "--timestamps", id]);
    assert.match(tail.stdout + tail.stderr, /^\d{4}-\d\d-\d\dT[\d:.]+Z (out|err)\n$/);
    // A log far larger than a client's buffer arrives whole, at the client's pace; --tail reads
    // only the end.
    const counter = (await ok(["run", "-d", "busybox", "seq", "1", "300000"])).trim();
    ids.push(counter);
    assert.equal(await ok(["wait", counter]), "0\n");
    const whole = await ok(["logs", counter]);
    assert.ok(whole === `${Array.from({ length: 300_000 }, (_, i) => i + 1).join("\n")}\n`, `${whole.length} bytes`);
    assert.equal(await ok(["logs", "--tail", "2", counter]), "299999\n300000\n");
    await ok(["rm", counter]);
    // logs -f follows a running container's output to its end.
    const ticker = (
      await ok(["run", "-d", "busybox", "sh", "-c", "for i in 1 2 3; do echo tick $i; sleep 0.3; done"])
    ).trim();
    ids.push(ticker);
    const followed = await docker(["logs", "-f", ticker]);
    assert.equal(followed.status, 0, followed.stderr);
    assert.equal(followed.stdout, "tick 1\ntick 2\ntick 3\n");
    await ok(["rm", ticker]);
    const created = (await ok(["create", "--name", "later", "busybox", "sh", "-c", "echo started; exit 4"])).trim();
    ids.push(created);
    assert.match(await ok(["ps", "-a", "--filter", "name=later", "--format", "{{.Status}}"]), /^Created\n$/);
    const started = await docker(["start", "-a", "later"]);
    assert.equal(started.status, 4, started.stderr);
    assert.equal(started.stdout, "started\n");
    const running = (await ok(["run", "-d", "busybox", "sleep", "600"])).trim();
    ids.push(running);
    const refused = await docker(["rm", running]);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /container is running: stop the container before removing or force remove/);
    assert.equal(await ok(["rm", "-f", running.slice(0, 12)]), `${running.slice(0, 12)}\n`);
    await ok(["rm", id, "later"]);
    assert.equal(await ok(["ps", "-aq"]), "");
    nothingLeft();
  });

  test("images: ls, inspect, tag, a run from the new tag, rmi of a tag in use refused, save and load", async () => {
    const ls = await ok(["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"]);
    const line = ls.split("\n").find((l) => l.startsWith("busybox:latest "));
    assert.ok(line, ls);
    const id = JSON.parse(await ok(["image", "inspect", "--format", "{{json .Id}}", "busybox"])) as string;
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    assert.ok(id.startsWith(`sha256:${line.split(" ")[1]}`), `ls shows the id: ${line}`);
    await ok(["tag", "busybox", "scenario/box:v1"]);
    assert.equal(JSON.parse(await ok(["image", "inspect", "--format", "{{json .Id}}", "scenario/box:v1"])), id);
    const used = (await ok(["create", "scenario/box:v1", "true"])).trim();
    ids.push(used);
    const r = await run(["--rm", "scenario/box:v1", "echo", "from the tag"]);
    assert.equal(r.stdout, "from the tag\n", r.stderr);
    // The tag alone of an image that has another: untagged, the image stays (in use or not).
    assert.match(await ok(["rmi", "scenario/box:v1"]), /^Untagged: scenario\/box:v1\n$/);
    // busybox's last name, used by a container: 409 in dockerd's words.
    const refused = await docker(["rmi", "busybox"]);
    assert.equal(refused.status, 1);
    assert.match(
      refused.stderr,
      /conflict: unable to remove repository reference "busybox" \(must force\) - container \w+ is using its referenced image/,
    );
    await ok(["rm", used]);
    // save, rmi, load: the same image id comes back under its name.
    const archive = join(e().d.dir, "scenario-busybox.tar");
    await ok(["save", "-o", archive, "busybox"]);
    const removed = await ok(["rmi", "busybox"]);
    assert.match(removed, /^Untagged: busybox:latest\n/);
    assert.match(removed, new RegExp(`Deleted: ${id}`));
    assert.equal(await ok(["images", "-q"]), "");
    const loaded = await ok(["load", "-i", archive]);
    assert.match(loaded, /Loaded image: busybox:latest/);
    assert.equal(JSON.parse(await ok(["image", "inspect", "--format", "{{json .Id}}", "busybox"])), id);
    nothingLeft();
  });
}
