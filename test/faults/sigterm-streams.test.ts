// SIGTERM to berth-containerd while streaming clients are connected: `ctr events` (an Events
// subscription that never ends by itself) and an attached `ctr run` of a long-running task (its
// Wait call and its events). The daemon must stop within a few seconds, as containerd does in about
// 1.5 s: open calls get a short grace period and are then cancelled. Before, grpc-js's tryShutdown
// waited for every call, so the socket vanished at once but the process lived on for as long as
// the client did. After the stop: the socket, the shims' event socket and the pid file are gone,
// the daemon logged its clean stop (shims let go, databases closed), the container still runs,
// and a restarted daemon finds it running and can kill and delete it, leaving no shim behind.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
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

const skip = process.getuid?.() !== 0 ? "fault tests run as root" : existsSync(CTR) ? undefined : `no ${CTR}`;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** How long the daemon may take to stop (containerd: ~1.5 s; ours: a 1 s grace plus the stop). */
const STOP_WITHIN_MS = 5000;
/** How long a test waits before calling a daemon hung. */
const GIVE_UP_MS = 10_000;

type Daemon = BerthContainerd & { cleanup(): Promise<void> };

const ok = (r: CtrResult, what: string) => {
  assert.equal(r.status, 0, `${what}: ${r.stderr}${r.stdout}`);
  return r.stdout;
};

/** A process is gone once /proc no longer lists it, or lists it as a zombie. */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** A ctr that keeps running (events, an attached run), with what it printed so far. */
function ctrBackground(d: BerthContainerd, args: string[]): { child: ChildProcess; output: () => string } {
  const child = spawn(CTR, ["--address", d.address, "--namespace", "default", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (c: Buffer) => {
    out += c.toString();
  });
  child.stderr?.on("data", (c: Buffer) => {
    out += c.toString();
  });
  return { child, output: () => out };
}

/** SIGTERM to the daemon; how long it took to exit, or undefined if it still ran after GIVE_UP_MS. */
async function sigterm(d: BerthContainerd): Promise<number | undefined> {
  const pid = d.pid;
  assert.ok(pid, "the daemon runs");
  const started = Date.now();
  process.kill(pid, "SIGTERM");
  while (Date.now() - started < GIVE_UP_MS) {
    if (!alive(pid)) return Date.now() - started;
    await sleep(20);
  }
  return undefined;
}

/** The daemon log's last lines, for a failure's message. */
async function tail(d: BerthContainerd): Promise<string> {
  return `\n--- daemon log (end) ---\n${(await d.log()).split("\n").slice(-15).join("\n")}`;
}

/** What a stop must leave: no sockets, no pid file, and the daemon's own word that it stopped. */
async function assertStoppedCleanly(d: BerthContainerd): Promise<void> {
  assert.equal(existsSync(d.address), false, "the gRPC socket is removed");
  assert.equal(existsSync(`${d.address}.ttrpc`), false, "the shims' event socket is removed");
  assert.equal(existsSync(join(d.root, "berth-containerd.pid")), false, "the pid file is removed");
  assert.match(await d.log(), /"stopped"|\bstopped\b/, "the daemon went through its whole stop");
}

describe("SIGTERM with streaming clients connected", { skip, timeout: 120_000 }, () => {
  // Each case has a daemon of its own: one that hangs must not take the next case with it.
  const daemons: Daemon[] = [];
  const clients: ChildProcess[] = [];
  const daemon = async () => {
    const d = await startWithBusybox(["--shim-spare=false"]);
    daemons.push(d);
    return d;
  };

  after(async () => {
    for (const c of clients) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    for (const d of daemons) await d.cleanup();
  });

  test("ctr events", async (t) => {
    const d = await daemon();
    const events = await subscribedCtrEvents(d);
    clients.push(events.child);

    const ms = await sigterm(d);
    t.diagnostic(ms === undefined ? `still running after ${GIVE_UP_MS} ms` : `stopped in ${ms} ms`);
    assert.ok(
      ms !== undefined,
      `berth-containerd still ran ${GIVE_UP_MS} ms after SIGTERM with ctr events open${await tail(d)}`,
    );
    assert.ok(ms < STOP_WITHIN_MS, `stopped in ${ms} ms`);
    await d.stop();
    await assertStoppedCleanly(d);
    // The client learns that its stream ended.
    for (let i = 0; i < 100 && events.child.exitCode === null; i++) await sleep(50);
    assert.notEqual(events.child.exitCode, null, "ctr events ends with the daemon");

    await d.start(["--shim-spare=false"]);
    await removeProbes(d, events); // the restarted daemon serves
  });

  test("an attached ctr run of a long-running task", async (t) => {
    const d = await daemon();
    const run = ctrBackground(d, ["run", BUSYBOX_IMAGE, "attached", "sleep", "1000"]);
    clients.push(run.child);
    const ls = await retryUntil(
      () => d.ctrAsync(["task", "ls"]),
      (r) => /^attached\s+\d+\s+RUNNING/m.test(r.stdout),
    );
    const m = /^attached\s+(\d+)\s+RUNNING/m.exec(ls.stdout);
    assert.ok(m, `the task runs:\n${ls.stdout}${ls.stderr}\n${run.output()}`);
    const taskPid = Number(m[1]);
    await sleep(300); // ctr run is past its start and waiting on the task

    const ms = await sigterm(d);
    t.diagnostic(ms === undefined ? `still running after ${GIVE_UP_MS} ms` : `stopped in ${ms} ms`);
    assert.ok(
      ms !== undefined,
      `berth-containerd still ran ${GIVE_UP_MS} ms after SIGTERM with ctr run attached${await tail(d)}`,
    );
    assert.ok(ms < STOP_WITHIN_MS, `stopped in ${ms} ms`);
    await d.stop();
    await assertStoppedCleanly(d);
    assert.ok(alive(taskPid), "the container keeps running without the daemon");
    assert.equal(shimPids(d.address, d.state).length, 1, "its shim keeps running");

    await d.start(["--shim-spare=false"]);
    const again = ok(await d.ctrAsync(["task", "ls"]), "task ls after the restart");
    assert.match(again, new RegExp(`^attached\\s+${taskPid}\\s+RUNNING`, "m"), "the restarted daemon sees it");
    ok(await d.ctrAsync(["task", "kill", "-s", "SIGKILL", "attached"]), "task kill");
    const del = await retryUntil(
      () => d.ctrAsync(["task", "delete", "attached"]),
      (r) => r.status === 0,
    );
    ok(del, "task delete");
    ok(await d.ctrAsync(["containers", "rm", "attached"]), "containers rm");
    for (let i = 0; i < 50 && shimPids(d.address, d.state).length > 0; i++) await sleep(100);
    assert.deepEqual(shimPids(d.address, d.state), [], "no shim is left");
    assert.equal(existsSync(join(d.state, "io.containerd.runtime.v2.task", "default", "attached")), false, "no bundle");
  });
});
