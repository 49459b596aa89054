// The reference peers (containerd 1.6 + ctr, podman, dockerd) started with private state, for the
// interop tests that drive a runc-compatible runtime (berth-runc) from them. Every peer gets its own
// temp dir for roots, sockets, pid files and logs, and its own cgroup parent, so files can run side
// by side; stop()/cleanup() take everything down again and never throw.
//
// The runtime is always reached through a wrapper script that logs each invocation's argv before it
// execs the real binary: that proves which binary a peer used and records the exact command lines.

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { chmod, open, readFile, rm, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "../fixtures/busybox.ts";
import { type InvokeOptions, invoke, OutputFiles, type RunResult } from "./runtime.ts";

/** The runtime under test; validate the harness itself with BERTH_INTEROP_RUNTIME=/usr/sbin/runc. */
export const INTEROP_RUNTIME = process.env.BERTH_INTEROP_RUNTIME ?? "/usr/local/bin/berth-runc";
/**
 * Debian's docker 20.10 client, not whatever `docker` is first in PATH: /usr/local/bin/docker on
 * these machines is a 28.x client that shadows it. 20.10 matches the daemon's API version exactly.
 */
export const DOCKER_CLI = process.env.BERTH_INTEROP_DOCKER_CLI ?? "/usr/bin/docker";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Why a peer test cannot run here (missing binary, not root), or undefined when it can. */
export function skipReason(peerBinaries: string[]): string | undefined {
  if (process.getuid?.() !== 0) return "interop tests run as root";
  for (const b of [INTEROP_RUNTIME, ...peerBinaries]) {
    if (!existsSync(b)) return `${b} not found`;
  }
  return undefined;
}

/** A unique short name: cgroup parents, namespaces and container names are shared kernel-wide. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

const shQuote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

// ---------------------------------------------------------------------------------------------
// Scratch output files for client commands (temp files, not pipes: a daemonised child such as a
// shim or conmon can inherit a pipe and keep it open long after the client exits).

class Scratch {
  readonly dir: string;
  #seq = 0;
  constructor(dir: string) {
    this.dir = dir;
  }
  files(label: string): OutputFiles {
    this.#seq++;
    return new OutputFiles(this.dir, `${this.#seq}-${label.replace(/[^a-zA-Z0-9_.-]/g, "_").slice(0, 40)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// The runtime wrapper

export interface RuntimeWrapper {
  /** The script to hand to the peer as its runtime. */
  path: string;
  logPath: string;
  /** Every logged invocation, argv without argv[0], oldest first. */
  invocations(): Promise<string[][]>;
}

/**
 * Writes an executable wrapper around `runtime` into `dir`. With `defaultRoot`, invocations that
 * carry no --root get `--root defaultRoot` prepended (the log still shows what the peer passed):
 * podman passes no --root at all, and its `--runtime-flag` does not reach the cleanup process.
 */
export async function writeRuntimeWrapper(
  dir: string,
  runtime: string,
  opts: { defaultRoot?: string } = {},
): Promise<RuntimeWrapper> {
  const path = join(dir, "runtime-wrapper");
  const logPath = join(dir, "runtime-invocations.log");
  const lines = [
    "#!/bin/sh",
    "# Interop test wrapper: log argv (0x1f between args, one line per call, one write), then exec.",
    `line=$(printf '%s\\037' "$@")`,
    `printf '%s\\n' "$line" >> ${shQuote(logPath)}`,
  ];
  if (opts.defaultRoot !== undefined) {
    lines.push(
      `for a in "$@"; do case "$a" in --root|--root=*|-root|-root=*) exec ${shQuote(runtime)} "$@";; esac; done`,
      `exec ${shQuote(runtime)} --root ${shQuote(opts.defaultRoot)} "$@"`,
    );
  } else {
    lines.push(`exec ${shQuote(runtime)} "$@"`);
  }
  await writeFile(path, `${lines.join("\n")}\n`);
  await chmod(path, 0o755);
  return {
    path,
    logPath,
    async invocations() {
      const text = await readFile(logPath, "utf8").catch(() => "");
      return text
        .split("\n")
        .filter((l) => l.length > 0)
        .map((l) => {
          const args = l.split("\x1f");
          args.pop(); // the separator terminates every arg, so the last piece is empty
          return args;
        });
    },
  };
}

/** runc global flags that take a value (as separate argument when written without `=`). */
const GLOBAL_VALUE_FLAGS = new Set(["--root", "--log", "--log-format", "--criu", "--rootless"]);

/** The runc subcommand of an argv (`create`, `start`, `kill` ...) and what follows it. */
export function runtimeSubcommand(argv: string[]): { command: string; args: string[] } | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith("-")) {
      const name = a.startsWith("--") ? a : `-${a}`;
      if (!a.includes("=") && GLOBAL_VALUE_FLAGS.has(name)) i++;
      continue;
    }
    return { command: a, args: argv.slice(i + 1) };
  }
  return undefined;
}

/** The invocations with subcommand `command` whose arguments mention `id`. */
export function callsFor(invocations: string[][], command: string, id: string): string[][] {
  return invocations.filter((argv) => {
    const sub = runtimeSubcommand(argv);
    return sub?.command === command && sub.args.includes(id);
  });
}

// ---------------------------------------------------------------------------------------------
// Host state: cgroups, mounts, processes

interface CgroupMount {
  path: string;
  version: 1 | 2;
}

function cgroupMounts(): CgroupMount[] {
  const out: CgroupMount[] = [];
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const fstype = line.slice(sep + 3).split(" ")[0];
    if (fstype !== "cgroup" && fstype !== "cgroup2") continue;
    const mountPoint = unescapeMountPath(line.slice(0, sep).split(" ")[4] ?? "");
    out.push({ path: mountPoint, version: fstype === "cgroup2" ? 2 : 1 });
  }
  return out;
}

function unescapeMountPath(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

/** 2 when /sys/fs/cgroup is the unified hierarchy, 1 for legacy and hybrid hosts (like this one). */
export function hostCgroupVersion(): 1 | 2 {
  return existsSync("/sys/fs/cgroup/cgroup.controllers") ? 2 : 1;
}

/**
 * A shell snippet, run inside the container, that prints its own memory limit: memory.limit_in_bytes
 * under a v1 memory hierarchy, memory.max under v2.
 */
export const PRINT_MEMORY_LIMIT =
  "if [ -r /sys/fs/cgroup/memory/memory.limit_in_bytes ]; then cat /sys/fs/cgroup/memory/memory.limit_in_bytes; " +
  "else cat /sys/fs/cgroup/memory.max; fi";

/** Every cgroup directory at or below `rel` in every mounted hierarchy, deepest first. */
function cgroupDirs(rel: string): string[] {
  const dirs: string[] = [];
  const walk = (d: string) => {
    let entries: string[];
    try {
      entries = readdirSync(d, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name);
    } catch {
      return;
    }
    for (const e of entries) walk(join(d, e));
    dirs.push(d);
  };
  for (const m of cgroupMounts()) walk(join(m.path, rel));
  return dirs;
}

/** SIGKILLs every process in the cgroup subtree `rel` (all of them were started for this test). */
export async function killCgroupTree(rel: string): Promise<void> {
  for (let round = 0; round < 20; round++) {
    const pids = new Set<number>();
    for (const d of cgroupDirs(rel)) {
      const text = await readFile(join(d, "cgroup.procs"), "utf8").catch(() => "");
      for (const l of text.split("\n")) if (l) pids.add(Number(l));
    }
    if (pids.size === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    await sleep(100);
  }
}

/** Removes the cgroup subtree `rel` from every hierarchy (after its processes are gone). */
export async function removeCgroupTree(rel: string): Promise<void> {
  for (let round = 0; round < 20; round++) {
    let left = 0;
    for (const d of cgroupDirs(rel)) {
      await rmdir(d).catch(() => {
        left++;
      });
    }
    if (left === 0) return;
    await sleep(100);
  }
}

/** Unmounts everything mounted at or below `dir`, deepest first (lazily when busy). */
export async function unmountUnder(dir: string): Promise<void> {
  const points: string[] = [];
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const mp = unescapeMountPath(line.split(" ")[4] ?? "");
    if (mp === dir || mp.startsWith(`${dir}/`)) points.push(mp);
  }
  points.sort((a, b) => b.length - a.length);
  const scratch = new Scratch(await makeTempDir("berth-umount-"));
  try {
    for (const p of points) {
      const r = await invoke("umount", [p], scratch.files("umount"), { timeoutMs: 10_000 });
      if (r.code !== 0) await invoke("umount", ["-l", p], scratch.files("umount-l"), { timeoutMs: 10_000 });
    }
  } finally {
    await rm(scratch.dir, { recursive: true, force: true });
  }
}

/** Pids of processes whose command line contains `needle` as one argument. */
export function pidsWithArgument(needle: string): number[] {
  const pids: number[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const argv = readFileSync(`/proc/${e}/cmdline`, "utf8").split("\0");
      if (argv.includes(needle)) pids.push(Number(e));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

function killPids(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Daemons

interface Daemon {
  child: ChildProcess;
  exited: Promise<void>;
}

async function spawnDaemon(bin: string, args: string[], logPath: string, env?: NodeJS.ProcessEnv): Promise<Daemon> {
  const log = await open(logPath, "a");
  try {
    const child = spawn(bin, args, { stdio: ["ignore", log.fd, log.fd], env: env ?? process.env });
    const exited = new Promise<void>((resolve) => {
      child.on("exit", () => resolve());
      child.on("error", () => resolve());
    });
    return { child, exited };
  } finally {
    await log.close();
  }
}

async function stopDaemon(d: Daemon, graceMs: number): Promise<void> {
  if (d.child.exitCode !== null || d.child.signalCode !== null) return;
  d.child.kill("SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const done = await Promise.race([
    d.exited.then(() => true),
    new Promise<boolean>((r) => {
      timer = setTimeout(() => r(false), graceMs);
    }),
  ]);
  clearTimeout(timer);
  if (!done) {
    d.child.kill("SIGKILL");
    await d.exited;
  }
}

/**
 * What every peer's teardown ends with, whatever failed before it: the processes and cgroups
 * under the peer's own cgroup, mounts under its directory, and its directories.
 */
async function releasePeer(cgroup: string, dir: string, scratchDir: string): Promise<void> {
  try {
    await killCgroupTree(cgroup);
    await removeCgroupTree(cgroup);
    await unmountUnder(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
    await rm(scratchDir, { recursive: true, force: true });
  }
}

/** Polls `probe` until it resolves true; throws with the daemon's log tail after `timeoutMs`. */
async function waitReady(
  what: string,
  d: Daemon,
  logPath: string,
  probe: () => Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (d.child.exitCode !== null || d.child.signalCode !== null) break;
    if (await probe()) return;
    if (Date.now() > deadline) break;
    await sleep(100);
  }
  const log = await readFile(logPath, "utf8").catch(() => "");
  throw new Error(`${what} did not become ready:\n${log.split("\n").slice(-30).join("\n")}`);
}

// ---------------------------------------------------------------------------------------------
// containerd 1.6 + ctr

export interface Containerd {
  dir: string;
  address: string;
  /** The containerd namespace the tests use; also the cgroup parent of its containers (/<ns>/<id>). */
  namespace: string;
  runtime: RuntimeWrapper;
  /** `ctr --address A --namespace NS args...`. */
  ctr(args: string[], opts?: InvokeOptions): Promise<RunResult>;
  /**
   * The flags that make `ctr run` use the wrapped runtime with a private runtime root and fifo dir
   * (containerd 1.6 without CRI has no config key for the runc binary; --runc-binary sets the
   * io.containerd.runc.v2 shim's BinaryName option per container).
   */
  runFlags: string[];
  stop(): Promise<void>;
}

export async function startContainerd(runtime = INTEROP_RUNTIME): Promise<Containerd> {
  const dir = await makeTempDir("berth-it-containerd-");
  const scratch = new Scratch(await makeTempDir("berth-it-containerd-out-"));
  const address = join(dir, "containerd.sock");
  const namespace = uniqueName("berth-it");
  const config = [
    "version = 2",
    `root = ${JSON.stringify(join(dir, "root"))}`,
    `state = ${JSON.stringify(join(dir, "state"))}`,
    // The CRI plugin would want CNI, a sandbox image and /etc/cni; these tests only need tasks.
    'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
    "[grpc]",
    `  address = ${JSON.stringify(address)}`,
    "[ttrpc]",
    `  address = ${JSON.stringify(`${address}.ttrpc`)}`,
    "[debug]",
    `  address = ${JSON.stringify(join(dir, "debug.sock"))}`,
    '  level = "info"',
    "[metrics]",
    '  address = ""',
    "",
  ].join("\n");
  const configPath = join(dir, "config.toml");
  await writeFile(configPath, config);
  const wrapper = await writeRuntimeWrapper(dir, runtime);
  const logPath = join(dir, "containerd.log");
  const daemon = await spawnDaemon("containerd", ["--config", configPath], logPath);
  const ctr = (args: string[], opts?: InvokeOptions) =>
    invoke("ctr", ["--address", address, "--namespace", namespace, ...args], scratch.files(args[0] ?? "ctr"), opts);
  const stop = async () => {
    try {
      if (daemon.child.exitCode === null) {
        const tasks = await ctr(["task", "ls", "-q"], { timeoutMs: 10_000 });
        for (const id of tasks.stdout.split("\n").filter(Boolean)) {
          await ctr(["task", "kill", "-s", "SIGKILL", id], { timeoutMs: 10_000 });
          await ctr(["task", "delete", "--force", id], { timeoutMs: 10_000 });
        }
        const containers = await ctr(["containers", "ls", "-q"], { timeoutMs: 10_000 });
        for (const id of containers.stdout.split("\n").filter(Boolean)) {
          await ctr(["containers", "rm", id], { timeoutMs: 10_000 });
        }
      }
      await stopDaemon(daemon, 10_000);
      // Shims outlive containerd by design; ours are the ones told to call back to our socket.
      killPids(pidsWithArgument(address));
    } finally {
      await releasePeer(namespace, dir, scratch.dir);
    }
  };
  try {
    await waitReady("containerd", daemon, logPath, async () => {
      if (!existsSync(address)) return false;
      return (await ctr(["version"], { timeoutMs: 5_000 })).code === 0;
    });
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    dir,
    address,
    namespace,
    runtime: wrapper,
    ctr,
    runFlags: ["--runc-binary", wrapper.path, "--runc-root", join(dir, "runc-root"), "--fifo-dir", join(dir, "fifo")],
    stop,
  };
}

// ---------------------------------------------------------------------------------------------
// podman (no daemon: every command is a fresh process reading the same private config)

export interface Podman {
  dir: string;
  runtime: RuntimeWrapper;
  /** Every container must be run with `--cgroup-parent` this (so cleanup can find what is left). */
  cgroupParent: string;
  podman(args: string[], opts?: InvokeOptions): Promise<RunResult>;
  cleanup(): Promise<void>;
}

/** The hard limit of `resource` in /proc/self/limits (e.g. "Max open files"), or undefined. */
function hardLimit(resource: string): number | undefined {
  const line = readFileSync("/proc/self/limits", "utf8")
    .split("\n")
    .find((l) => l.startsWith(resource));
  const hard = line?.slice(resource.length).trim().split(/\s+/)[1];
  return hard === undefined || hard === "unlimited" ? undefined : Number(hard);
}

function hasCapSysResource(): boolean {
  const line = readFileSync("/proc/self/status", "utf8")
    .split("\n")
    .find((l) => l.startsWith("CapEff:"));
  const eff = BigInt(`0x${line?.split(/\s+/)[1] ?? "0"}`);
  return (eff & (1n << 24n)) !== 0n;
}

export async function setupPodman(runtime = INTEROP_RUNTIME): Promise<Podman> {
  const dir = await makeTempDir("berth-it-podman-");
  const scratch = new Scratch(await makeTempDir("berth-it-podman-out-"));
  const cgroupParent = `/${uniqueName("berth-it-podman")}`;
  const wrapper = await writeRuntimeWrapper(dir, runtime, { defaultRoot: join(dir, "runtime-root") });
  const containersConf = ["[containers]"];
  // podman asks for RLIMIT_NOFILE 1048576 and RLIMIT_NPROC 4194304 by default; without
  // CAP_SYS_RESOURCE (as in this sandbox) the runtime cannot raise hard limits and create fails
  // with EPERM. podman itself runs conmon/the runtime with NPROC lowered to 32768 here.
  if (!hasCapSysResource()) {
    const nofile = Math.min(hardLimit("Max open files") ?? 1024, 65536);
    const nproc = Math.min(hardLimit("Max processes") ?? 4096, 4096);
    containersConf.push(`default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]`);
  }
  containersConf.push(
    "[engine]",
    `tmp_dir = ${JSON.stringify(join(dir, "tmp"))}`,
    // File locks under tmp_dir instead of the host-wide /dev/shm/libpod_lock: a fresh podman state
    // frees every lock in that shared segment, the ones of other podmans' containers too.
    'lock_type = "file"',
    `volume_path = ${JSON.stringify(join(dir, "volumes"))}`,
    `events_logfile_path = ${JSON.stringify(join(dir, "events.log"))}`,
    "[network]",
    `network_config_dir = ${JSON.stringify(join(dir, "networks"))}`,
    "",
  );
  await writeFile(join(dir, "containers.conf"), containersConf.join("\n"));
  await writeFile(
    join(dir, "storage.conf"),
    [
      "[storage]",
      'driver = "overlay"',
      `graphroot = ${JSON.stringify(join(dir, "root"))}`,
      `runroot = ${JSON.stringify(join(dir, "runroot"))}`,
      "",
    ].join("\n"),
  );
  // No registries at all: images only come from `podman import`.
  await writeFile(join(dir, "registries.conf"), "");
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CONTAINERS_CONF: join(dir, "containers.conf"),
    CONTAINERS_STORAGE_CONF: join(dir, "storage.conf"),
    CONTAINERS_REGISTRIES_CONF: join(dir, "registries.conf"),
  };
  const global = [
    "--root",
    join(dir, "root"),
    "--runroot",
    join(dir, "runroot"),
    "--tmpdir",
    join(dir, "tmp"),
    "--storage-driver",
    "overlay",
    "--runtime",
    wrapper.path,
    "--cgroup-manager",
    "cgroupfs",
    "--events-backend",
    "file",
  ];
  const podman = (args: string[], opts?: InvokeOptions) =>
    invoke("podman", [...global, ...args], scratch.files(args[0] ?? "podman"), { env, ...opts });
  const cleanup = async () => {
    try {
      await podman(["rm", "--all", "--force", "--time", "0"], { timeoutMs: 30_000 });
    } finally {
      await releasePeer(cgroupParent, dir, scratch.dir);
    }
  };
  return { dir, runtime: wrapper, cgroupParent, podman, cleanup };
}

// ---------------------------------------------------------------------------------------------
// dockerd (with the containerd it starts and manages itself under --exec-root/--data-root)

export interface Dockerd {
  dir: string;
  runtime: RuntimeWrapper;
  /** The name the runtime is registered under (`docker run --runtime NAME`). */
  runtimeName: string;
  cgroupParent: string;
  docker(args: string[], opts?: InvokeOptions): Promise<RunResult>;
  stop(): Promise<void>;
}

export async function startDockerd(runtime = INTEROP_RUNTIME): Promise<Dockerd> {
  const dir = await makeTempDir("berth-it-dockerd-");
  const scratch = new Scratch(await makeTempDir("berth-it-dockerd-out-"));
  const cgroupParent = `/${uniqueName("berth-it-dockerd")}`;
  const runtimeName = "berth-it";
  const wrapper = await writeRuntimeWrapper(dir, runtime);
  const sock = join(dir, "docker.sock");
  const execRoot = join(dir, "exec");
  // dockerd 20.10 writes a libtrust key to /etc/docker/key.json unless told otherwise; the config
  // file is the only place to say so (there is no flag).
  const daemonJson = join(dir, "daemon.json");
  await writeFile(daemonJson, JSON.stringify({ "deprecated-key-path": join(dir, "key.json") }));
  const logPath = join(dir, "dockerd.log");
  const daemon = await spawnDaemon(
    "dockerd",
    [
      "--config-file",
      daemonJson,
      "--data-root",
      join(dir, "data"),
      "--exec-root",
      execRoot,
      "--pidfile",
      join(dir, "dockerd.pid"),
      "--host",
      `unix://${sock}`,
      "--bridge",
      "none",
      "--iptables=false",
      "--ip-masq=false",
      "--cgroup-parent",
      cgroupParent,
      "--add-runtime",
      `${runtimeName}=${wrapper.path}`,
    ],
    logPath,
  );
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_CONFIG: join(dir, "client-config") };
  const docker = (args: string[], opts?: InvokeOptions) =>
    invoke(DOCKER_CLI, ["--host", `unix://${sock}`, ...args], scratch.files(args[0] ?? "docker"), { env, ...opts });
  const stop = async () => {
    try {
      if (daemon.child.exitCode === null) {
        const ids = await docker(["ps", "--all", "--quiet"], { timeoutMs: 10_000 });
        const list = ids.stdout.split("\n").filter(Boolean);
        if (list.length > 0) await docker(["rm", "--force", ...list], { timeoutMs: 30_000 });
      }
      await stopDaemon(daemon, 20_000);
      // The managed containerd and its shims: the ones pointed at our exec root's socket.
      killPids(pidsWithArgument(join(execRoot, "containerd", "containerd.toml")));
      killPids(pidsWithArgument(join(execRoot, "containerd", "containerd.sock")));
    } finally {
      await releasePeer(cgroupParent, dir, scratch.dir);
    }
  };
  try {
    await waitReady("dockerd", daemon, logPath, async () => {
      if (!existsSync(sock)) return false;
      return (await docker(["version"], { timeoutMs: 5_000 })).code === 0;
    });
  } catch (e) {
    await stop();
    throw e;
  }
  return { dir, runtime: wrapper, runtimeName, cgroupParent, docker, stop };
}

/** Polls `check` every 100 ms until it returns true or `timeoutMs` passes; returns the last result. */
export async function pollUntil(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
}
