// The real `ctr` runs containers through berth-containerd → berth-shim → berth-runc: run --rm with
// output and exit codes, run -d with task ls/ps/exec/pause/resume/metrics/kill/delete, and run -t
// with a terminal (ctr itself runs under a pseudo-terminal made by script(1)).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { keepersOf } from "../../src/shim/keeper.ts";
import {
  type BerthContainerd,
  BUSYBOX_IMAGE,
  CTR,
  type CtrResult,
  retryUntil,
  shimPids,
  startWithBusybox,
} from "../helpers/berth-containerd.ts";
import { removeProbes, subscribedCtrEvents } from "../helpers/ctr-events.ts";
import { shimsOf } from "../helpers/invariants.ts";

const IMAGE = BUSYBOX_IMAGE;
const skip =
  process.getuid?.() !== 0
    ? "interop tests run as root"
    : ["/usr/bin/ctr", "/usr/bin/script"].find((b) => !existsSync(b));

type Daemon = BerthContainerd & { cleanup(): Promise<void> };

const ok = (r: CtrResult, what: string) => {
  assert.equal(r.status, 0, `${what}: ${r.stderr}${r.stdout}`);
  return r.stdout;
};

describe("ctr runs tasks on berth-containerd with berth-shim", { skip }, () => {
  let d: Daemon;

  before(async () => {
    d = await startWithBusybox();
  });

  after(async () => {
    await d?.cleanup();
  });

  test("run --rm prints the output; exit codes propagate", { timeout: 60_000 }, async () => {
    const r = await d.ctrAsync(["run", "--rm", IMAGE, "hi", "echo", "hi"]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "hi\n");
    const code = await d.ctrAsync(["run", "--rm", IMAGE, "three", "sh", "-c", "echo out; echo err >&2; exit 3"]);
    assert.equal(code.status, 3, code.stderr);
    assert.equal(code.stdout, "out\n");
    assert.match(code.stderr, /^err$/m);
    assert.equal(ok(await d.ctrAsync(["containers", "ls", "-q"]), "ls"), "");
  });

  test("run -d; task ls/ps/exec/pause/resume/metrics/kill/delete", { timeout: 90_000 }, async () => {
    ok(await d.ctrAsync(["run", "-d", IMAGE, "bg", "sleep", "1000"]), "run -d");
    const ls = ok(await d.ctrAsync(["task", "ls"]), "task ls");
    const row = ls.split("\n").find((l) => l.startsWith("bg "));
    assert.ok(row, ls);
    const [, pid, status] = row.split(/\s+/);
    assert.equal(status, "RUNNING");
    assert.ok(existsSync(`/proc/${pid}`), "the task's pid is a live process");
    assert.equal(readFileSync(`/proc/${pid}/cmdline`, "utf8"), "sleep\x001000\x00");

    const ps = ok(await d.ctrAsync(["task", "ps", "bg"]), "task ps");
    assert.match(ps, new RegExp(`^${pid}\\s`, "m"));

    const ex = await d.ctrAsync(["task", "exec", "--exec-id", "e1", "bg", "sh", "-c", "echo from exec; exit 5"]);
    assert.equal(ex.status, 5, ex.stderr);
    assert.equal(ex.stdout, "from exec\n");

    ok(await d.ctrAsync(["task", "pause", "bg"]), "pause");
    assert.match(ok(await d.ctrAsync(["task", "ls"]), "ls"), /^bg\s+\d+\s+PAUSED/m);
    assert.match(readFileSync(`/proc/${pid}/status`, "utf8"), /^State:\s+[DST]/m);
    ok(await d.ctrAsync(["task", "resume", "bg"]), "resume");
    assert.match(ok(await d.ctrAsync(["task", "ls"]), "ls"), /^bg\s+\d+\s+RUNNING/m);

    const m = ok(await d.ctrAsync(["task", "metrics", "bg"]), "metrics");
    assert.match(m, /memory\.usage_in_bytes\s+[1-9]\d*/);
    assert.match(m, /pids\.current\s+[1-9]/);

    ok(await d.ctrAsync(["task", "kill", "-s", "SIGKILL", "bg"]), "kill");
    const stopped = await retryUntil(
      () => d.ctrAsync(["task", "ls"]),
      (r) => /^bg\s+\d+\s+STOPPED/m.test(r.stdout),
    );
    assert.match(ok(stopped, "ls"), /^bg\s+\d+\s+STOPPED/m);
    const del = ok(await d.ctrAsync(["task", "delete", "bg"]), "task delete");
    assert.match(del, /exit status 137|^$/);
    ok(await d.ctrAsync(["containers", "rm", "bg"]), "containers rm");
    assert.ok(!existsSync(`/proc/${pid}`));
    assert.doesNotMatch(readFileSync("/proc/self/mountinfo", "utf8"), new RegExp(`${d.state}/\\S*/bg/rootfs`));
  });

  // ctr sends the window size right after Start, so the container waits a moment before reading it.
  test("run -t: the container gets a terminal, ctr relays it", { timeout: 60_000 }, async () => {
    const cmd = [
      CTR,
      "--address",
      d.address,
      "run",
      "-t",
      "--rm",
      IMAGE,
      "tty1",
      "sh",
      "-c",
      "tty; sleep 1; stty size; exit 7",
    ]
      .map((a) => `'${a}'`)
      .join(" ");
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const c = spawn("script", ["-qfec", `stty rows 33 cols 101; ${cmd}`, "/dev/null"], {
        stdio: ["pipe", "pipe", "pipe"],
      });
      let out = "";
      c.stdout.on("data", (b: Buffer) => {
        out += b.toString();
      });
      c.stderr.on("data", (b: Buffer) => {
        out += b.toString();
      });
      c.on("close", (code) => resolve({ code, out }));
    });
    assert.match(r.out, /\/dev\/pts\/\d+/);
    assert.match(r.out, /33 101/);
    assert.equal(r.code, 7, r.out);
  });

  test("containers of one group share one shim; each keeps its own lifecycle", { timeout: 60_000 }, async () => {
    const shims = () => shimPids(d.address, d.state);
    const before = shims().length;
    for (const id of ["g1", "g2", "g3"]) {
      ok(
        await d.ctrAsync(["run", "-d", "--annotation", "io.containerd.runc.v2.group=grp", IMAGE, id, "sleep", "1000"]),
        `run ${id}`,
      );
    }
    assert.equal(shims().length, before + 1, "one shim serves the group");
    ok(await d.ctrAsync(["task", "kill", "-s", "SIGKILL", "g2"]), "kill g2");
    await retryUntil(
      () => d.ctrAsync(["task", "ls"]),
      (r) => /^g2\s+\d+\s+STOPPED/m.test(r.stdout),
    );
    ok(await d.ctrAsync(["task", "delete", "g2"]), "delete g2");
    const ls = ok(await d.ctrAsync(["task", "ls"]), "ls");
    assert.match(ls, /^g1\s+\d+\s+RUNNING/m);
    assert.match(ls, /^g3\s+\d+\s+RUNNING/m);
    assert.equal(shims().length, before + 1, "the shim stays while it has tasks");
    for (const id of ["g1", "g3"]) ok(await d.ctrAsync(["task", "delete", "--force", id]), `delete ${id}`);
    for (const id of ["g1", "g2", "g3"]) ok(await d.ctrAsync(["containers", "rm", id]), `rm ${id}`);
    for (let i = 0; i < 50 && shims().length > before; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(shims().length, before, "the shim exits with its last task");
  });

  test("a binary:// logger gets the output on fds 3 and 4; file:// appends to a file", {
    timeout: 60_000,
  }, async () => {
    const logger = join(d.dir, "logger.sh");
    const out = join(d.dir, "logger-out.txt");
    // Ready once fd 5 is closed; then copy stdout and stderr to one file, with the container's id.
    writeFileSync(
      logger,
      `#!/bin/sh\nexec 5>&-\n/usr/bin/env > ${out}.env\n{ echo "id=$CONTAINER_ID ns=$CONTAINER_NAMESPACE"; cat <&3; cat <&4; } > ${out}\n`,
      { mode: 0o755 },
    );
    ok(
      await d.ctrAsync([
        "run",
        "--rm",
        "--log-uri",
        `binary://${logger}`,
        IMAGE,
        "logged",
        "sh",
        "-c",
        "echo to-stdout; echo to-stderr >&2",
      ]),
      "run with binary log",
    );
    for (let i = 0; i < 50 && !/to-stderr/.test(existsSync(out) ? readFileSync(out, "utf8") : ""); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(readFileSync(out, "utf8"), "id=logged ns=default\nto-stdout\nto-stderr\n");
    // Its environment is the two variables containerd's shims give (sh adds PWD), none of the shim's.
    const env = readFileSync(`${out}.env`, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split("=")[0]);
    assert.deepEqual(env.filter((k) => k !== "PWD").sort(), ["CONTAINER_ID", "CONTAINER_NAMESPACE"]);

    const file = join(d.dir, "logs", "appended.log");
    for (const word of ["one", "two"]) {
      ok(await d.ctrAsync(["run", "--rm", "--log-uri", `file://${file}`, IMAGE, `file-${word}`, "echo", word]), word);
    }
    assert.equal(readFileSync(file, "utf8"), "one\ntwo\n");
  });

  test("an OOM kill is published as /tasks/oom before the exit", { timeout: 60_000 }, async () => {
    const events = await subscribedCtrEvents(d);
    const r = await d.ctrAsync([
      "run",
      "--rm",
      "--memory-limit",
      String(32 << 20),
      IMAGE,
      "oomer",
      "sh",
      "-c",
      "x=aaaaaaaaaaaaaaaa; while true; do x=$x$x; done",
    ]);
    assert.equal(r.status, 137, r.stderr);
    // ctr run learns of the exit through Wait; the subscriber hears the events a moment later.
    const heard = () => /\/tasks\/exit.*oomer/.test(events.output());
    for (let i = 0; i < 100 && !heard(); i++) await new Promise((res) => setTimeout(res, 100));
    events.child.kill();
    await removeProbes(d, events);
    const lines = events.output().split("\n");
    const oom = lines.findIndex((l) => l.includes("/tasks/oom") && l.includes("oomer"));
    const exit = lines.findIndex((l) => l.includes("/tasks/exit") && l.includes("oomer"));
    assert.ok(oom >= 0 && exit > oom, events.output());
  });

  test("exec -t: an exec'd process gets its own terminal", { timeout: 60_000 }, async () => {
    ok(await d.ctrAsync(["run", "-d", IMAGE, "texec", "sleep", "1000"]), "run -d");
    const cmd = [
      CTR,
      "--address",
      d.address,
      "task",
      "exec",
      "-t",
      "--exec-id",
      "tx",
      "texec",
      "sh",
      "-c",
      "tty; exit 4",
    ]
      .map((a) => `'${a}'`)
      .join(" ");
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const c = spawn("script", ["-qfec", cmd, "/dev/null"], { stdio: ["pipe", "pipe", "pipe"] });
      let out = "";
      c.stdout.on("data", (b: Buffer) => {
        out += b.toString();
      });
      c.on("close", (code) => resolve({ code, out }));
    });
    assert.match(r.out, /\/dev\/pts\/\d+/);
    assert.equal(r.code, 4, r.out);
    ok(await d.ctrAsync(["task", "delete", "--force", "texec"]), "delete");
    ok(await d.ctrAsync(["containers", "rm", "texec"]), "rm");
  });

  /** `ctr run -d` of a sleeper: its pid, bundle and the socket of the shim serving it. */
  const runSleeper = async (id: string) => {
    ok(await d.ctrAsync(["run", "-d", IMAGE, id, "sleep", "1000"]), "run -d");
    const row = new RegExp(`^${id}\\s+(\\d+)`, "m").exec(ok(await d.ctrAsync(["task", "ls"]), "ls"));
    assert.ok(row);
    const bundle = join(d.state, "io.containerd.runtime.v2.task", "default", id);
    const socket = readFileSync(join(bundle, "address"), "utf8").replace(/^unix:\/\//, "");
    return { pid: Number(row[1]), bundle, socket };
  };

  test("a shim killed with SIGKILL: a new one serves its task, which runs on", { timeout: 60_000 }, async () => {
    const { pid, socket } = await runSleeper("orphaned");
    const serving = () => shimsOf(d.address).find((p) => p.socket === socket)?.pid;
    const shim = serving();
    assert.ok(shim, "the task's shim");
    process.kill(shim, "SIGKILL");
    // The daemon starts a new shim on the same socket, which adopts the task from its keeper.
    for (let i = 0; i < 100 && (serving() ?? shim) === shim; i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(serving() !== undefined && serving() !== shim, "a new shim serves the task");
    const ls = await retryUntil(
      () => d.ctrAsync(["task", "ls"]),
      (r) => /^orphaned\s+\d+\s+RUNNING/m.test(r.stdout),
    );
    assert.match(ls.stdout, new RegExp(`^orphaned\\s+${pid}\\s+RUNNING`, "m"), "the same container runs on");
    assert.equal(ok(await d.ctrAsync(["task", "exec", "--exec-id", "e", "orphaned", "echo", "hi"]), "exec"), "hi\n");
    ok(await d.ctrAsync(["task", "delete", "--force", "orphaned"]), "delete");
    ok(await d.ctrAsync(["containers", "rm", "orphaned"]), "rm");
  });

  test("a shim and a keeper killed with SIGKILL: the keeper's task is cleaned up and reported as exited", {
    timeout: 60_000,
  }, async () => {
    const { pid, bundle, socket } = await runSleeper("orphaned2");
    const shim = shimsOf(d.address).find((p) => p.socket === socket)?.pid;
    assert.ok(shim, "the task's shim");
    const keepers = keepersOf(bundle);
    assert.equal(keepers.length, 1, "the task's keeper");
    const events = await subscribedCtrEvents(d);
    for (const victim of [...keepers, shim]) process.kill(victim, "SIGKILL");
    // The clean-up removes the bundle, then publishes the exit (containerd's order too), which
    // reaches ctr events a moment later: wait for both before the subscriber goes.
    const exited = () => /\/tasks\/exit.*orphaned2/.test(events.output());
    for (let i = 0; i < 100 && (existsSync(bundle) || !exited()); i++) await new Promise((r) => setTimeout(r, 100));
    events.child.kill();
    await removeProbes(d, events);
    assert.doesNotMatch(ok(await d.ctrAsync(["task", "ls"]), "ls"), /^orphaned2\s/m);
    // Dead: gone, or a zombie of whatever adopted it once its keeper was gone.
    const state = existsSync(`/proc/${pid}`) ? readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0] : "gone";
    assert.ok(state === "gone" || state === "Z", `the container went with its keeper (state ${state})`);
    assert.match(events.output(), /\/tasks\/exit.*orphaned2/);
    assert.doesNotMatch(readFileSync("/proc/self/mountinfo", "utf8"), /\/orphaned2\/rootfs/);
    assert.ok(!existsSync(bundle), "bundle removed");
    ok(await d.ctrAsync(["containers", "rm", "orphaned2"]), "rm");
  });
});
