// berth-containerd started with private --root/--state dirs and its own socket, for the tests that
// drive it with the real `ctr` or with our client library. Several daemons can run side by side;
// stop() takes one down (and removes its dirs) and never throws; kill9() simulates a crash and
// restart() brings the daemon back on the same dirs.

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, openSync, readdirSync, readFileSync, statSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "../fixtures/busybox.ts";
import { writeImageArchive } from "../fixtures/oci-image.ts";
import { pidsWithArgument } from "./peers.ts";

const repo = join(import.meta.dirname, "..", "..");
/** The daemon under test: the built bundle, as users run it. */
export const BERTH_CONTAINERD = process.env.BERTH_CONTAINERD ?? join(repo, "dist", "berth-containerd.mjs");
export const CTR = "/usr/bin/ctr";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface CtrResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** What a child spawned with piped stdout and stderr printed, and its exit status, once it closes. */
export function outputOf(child: ChildProcess): Promise<CtrResult> {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr?.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  return new Promise((resolve) => child.on("close", (code) => resolve({ status: code ?? -1, stdout, stderr })));
}

export class BerthContainerd {
  readonly dir: string;
  readonly root: string;
  readonly state: string;
  readonly address: string;
  readonly logPath: string;
  /** The daemon's entry point: the build under test, or another build (a bench's A/B). */
  readonly binary: string;
  #child: ChildProcess | undefined;

  constructor(dir: string, binary: string = BERTH_CONTAINERD) {
    this.dir = dir;
    this.binary = binary;
    this.root = join(dir, "root");
    this.state = join(dir, "state");
    this.address = join(dir, "state", "containerd.sock");
    this.logPath = join(dir, "daemon.log");
  }

  /**
   * Bytes held by the content store's ingest whose ref ends with `suffix` (a partial download or
   * write), found through each ingest's meta.json; undefined when there is none.
   */
  ingestBytes(suffix: string): number | undefined {
    const dir = join(this.root, "io.containerd.content.v1.content", "ingest");
    for (const name of existsSync(dir) ? readdirSync(dir) : []) {
      try {
        const meta = JSON.parse(readFileSync(join(dir, name, "meta.json"), "utf8")) as { ref: string };
        if (meta.ref.endsWith(suffix)) return statSync(join(dir, name, "data")).size;
      } catch {
        // An ingest being created or removed meanwhile.
      }
    }
    return undefined;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Starts the daemon and waits until its socket answers. */
  async start(extraArgs: string[] = []): Promise<void> {
    const log = openSync(this.logPath, "a");
    const child = spawn(
      this.binary,
      ["--root", this.root, "--state", this.state, "--address", this.address, "--log-level", "debug", ...extraArgs],
      { stdio: ["ignore", log, log] },
    );
    this.#child = child;
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const deadline = Date.now() + 15_000;
    for (;;) {
      const done = await Promise.race([exited, sleep(50).then(() => "waiting" as const)]);
      if (done !== "waiting") throw new Error(`berth-containerd exited with ${done}: ${await this.log()}`);
      if (existsSync(this.address) && this.ctr(["version"]).status === 0) return;
      if (Date.now() > deadline) throw new Error(`berth-containerd did not come up: ${await this.log()}`);
    }
  }

  async log(): Promise<string> {
    return readFile(this.logPath, "utf8").catch(() => "");
  }

  /** Runs the real ctr against this daemon; synchronous so tests read like shell sessions. */
  ctr(args: string[], opts: { namespace?: string; input?: string; timeoutMs?: number } = {}): CtrResult {
    const r = spawnSync(CTR, ["--address", this.address, "--namespace", opts.namespace ?? "default", ...args], {
      encoding: "utf8",
      input: opts.input,
      timeout: opts.timeoutMs ?? 120_000,
    });
    return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  }

  /** ctr without blocking the event loop: needed when the test itself serves the registry. */
  ctrAsync(args: string[], opts: { namespace?: string; timeoutMs?: number } = {}): Promise<CtrResult> {
    const child = spawn(CTR, ["--address", this.address, "--namespace", opts.namespace ?? "default", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      timeout: opts.timeoutMs ?? 120_000,
    });
    return outputOf(child);
  }

  /** Simulates a crash: SIGKILL, no cleanup by the daemon. */
  async kill9(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((r) => child.once("exit", () => r()));
    child.kill("SIGKILL");
    await gone;
    this.#child = undefined;
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise<void>((r) => child.once("exit", () => r()));
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 5000);
      await gone;
      clearTimeout(t);
    }
    this.#child = undefined;
  }
}

const BERTH_RUNC = join(repo, "dist", "berth-runc.mjs");

/**
 * The shim processes serving the daemon at `address` (shims get its socket as -address), not the
 * daemon itself nor, given the daemon's `state` dir, its idle spare berth-shim: a spare whose
 * socket no task's bundle names (an adopted spare serves tasks and counts).
 */
export function shimPids(address: string, state?: string): number[] {
  const used = new Set<string>();
  const tasks = state ? join(state, "io.containerd.runtime.v2.task") : undefined;
  if (tasks && existsSync(tasks)) {
    for (const ns of readdirSync(tasks)) {
      for (const id of readdirSync(join(tasks, ns))) {
        try {
          used.add(readFileSync(join(tasks, ns, id, "address"), "utf8").replace(/^unix:\/\//, ""));
        } catch {}
      }
    }
  }
  return pidsWithArgument(address).filter((p) => {
    try {
      const argv = readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0");
      if (!argv.some((a) => /^\/\S*\/(berth-shim\.mjs|containerd-shim-[\w-]+)$/.test(a))) return false;
      const socket = argv[argv.indexOf("-socket") + 1];
      return !argv.includes("-spare") || (socket !== undefined && used.has(socket));
    } catch {
      return false;
    }
  });
}

/** Kills and deletes every task and container in every namespace (after a test that failed midway). */
export async function deleteAllTasks(d: BerthContainerd): Promise<void> {
  const namespaces = (await d.ctrAsync(["namespaces", "ls", "-q"])).stdout.split("\n").filter(Boolean);
  for (const ns of namespaces) {
    for (const id of (await d.ctrAsync(["task", "ls", "-q"], { namespace: ns })).stdout.split("\n").filter(Boolean)) {
      await d.ctrAsync(["task", "delete", "--force", id], { namespace: ns });
    }
    for (const id of (await d.ctrAsync(["containers", "ls", "-q"], { namespace: ns })).stdout
      .split("\n")
      .filter(Boolean)) {
      await d.ctrAsync(["containers", "rm", id], { namespace: ns });
    }
  }
}

/** The busybox image the task tests run, imported with `ctr images import`. */
export const BUSYBOX_IMAGE = "docker.io/berth/busybox:latest";

/** A daemon (see startBerthContainerd) with the busybox image imported into `namespace`. */
export async function startWithBusybox(
  extraArgs: string[] = [],
  namespace = "default",
): Promise<BerthContainerd & { cleanup(): Promise<void> }> {
  const d = await startBerthContainerd(extraArgs);
  const archive = join(d.dir, "busybox.tar");
  await writeImageArchive(archive, { name: BUSYBOX_IMAGE });
  const r = await d.ctrAsync(["images", "import", archive], { namespace });
  if (r.status !== 0) {
    await d.cleanup();
    throw new Error(`ctr images import: ${r.stderr}`);
  }
  return d;
}

/** Runs `attempt` until `done` says so (a task delete while the exit is on its way), at most ~5 s. */
export async function retryUntil<R>(attempt: () => Promise<R>, done: (r: R) => boolean): Promise<R> {
  let r = await attempt();
  for (let i = 0; i < 50 && !done(r); i++) {
    await sleep(100);
    r = await attempt();
  }
  return r;
}

/** A daemon in a fresh private dir; `cleanup()` stops it and removes every file it made. */
export async function startBerthContainerd(
  extraArgs: string[] = [],
  binary: string = BERTH_CONTAINERD,
): Promise<BerthContainerd & { cleanup(): Promise<void> }> {
  const dir = await makeTempDir("berth-containerd-");
  const d = new BerthContainerd(dir, binary) as BerthContainerd & { cleanup(): Promise<void> };
  d.cleanup = async () => {
    if (d.pid !== undefined) await deleteAllTasks(d);
    await d.stop();
    // Shims outlive their daemon by design; after a failed test, stop the ones that serve this
    // daemon and force-delete what their runtime left.
    for (let i = 0; i < 20 && pidsWithArgument(d.address).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    for (const pid of pidsWithArgument(d.address)) {
      let argv: string[] = [];
      try {
        argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
        process.kill(pid, "SIGKILL");
      } catch {}
      // A shim killed outright leaves its socket file.
      const socket = argv[argv.indexOf("-socket") + 1];
      if (argv.includes("-socket") && socket) await rm(socket, { force: true });
    }
    const runcRoot = join(dir, "state", "runc");
    if (existsSync(runcRoot)) {
      for (const ns of readdirSync(runcRoot)) {
        for (const id of readdirSync(join(runcRoot, ns))) {
          spawnSync(BERTH_RUNC, ["--root", join(runcRoot, ns), "delete", "--force", id], { stdio: "ignore" });
        }
      }
    }
    // Snapshots of a crashed test may still be mounted under the root.
    spawnSync("sh", ["-c", `grep -o " ${dir}[^ ]*" /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l`]);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await d.start(extraArgs);
  } catch (err) {
    await d.cleanup();
    throw err;
  }
  return d;
}
