// berthd (dist/berthd.mjs, as users run it) with a private socket, data root, exec root and pid
// file in a temp dir, and its own berth-containerd under them; the real docker CLI 28 and raw
// node:http requests pointed at it (docker CLI 28 where the machine has it, else Debian's 20.10). Several can run side by side; cleanup() stops the daemon,
// kills whatever of it is left (a test that failed midway) and removes the dir.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, openSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { request } from "node:http";
import { join } from "node:path";
import { makeTempDir } from "../fixtures/busybox.ts";
import { writeImageArchive } from "../fixtures/oci-image.ts";
import { outputOf } from "./berth-containerd.ts";
import { killCgroupTree, removeCgroupTree } from "./peers.ts";

const repo = join(import.meta.dirname, "..", "..");
export const BERTHD = process.env.BERTHD ?? join(repo, "dist", "berthd.mjs");
/** docker CLI 28.2 (the newest client, API 1.50), where the machine has it (a fresh one does not). */
export const DOCKER_CLI_28 = "/usr/local/bin/docker";
/** Debian's docker.io client, 20.10 (API 1.41): scripts/setup.sh installs it. */
export const DOCKER_CLI_20 = "/usr/bin/docker";
/**
 * The newest docker CLI this machine has: 28 where present, else Debian's 20.10. BERTH_DOCKER_CLI
 * names another (=/usr/bin/docker runs the tests as a fresh machine would).
 */
export const DOCKER_CLI = process.env.BERTH_DOCKER_CLI ?? (existsSync(DOCKER_CLI_28) ? DOCKER_CLI_28 : DOCKER_CLI_20);
/** Skip reason for a test that needs docker CLI 28 itself (API 1.44+ paths), or undefined. */
export const NEEDS_CLI_28 =
  DOCKER_CLI === DOCKER_CLI_28 && existsSync(DOCKER_CLI_28) ? undefined : "needs docker CLI 28 (not the client in use)";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface CommandResult {
  status: number;
  stdout: string;
  stderr: string;
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Every process whose command line mentions `needle` (a private dir: what a daemon left). */
export function pidsMentioning(needle: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${e}/cmdline`, "utf8").includes(needle)) out.push(Number(e));
    } catch {}
  }
  return out;
}

export class Berthd {
  readonly dir: string;
  readonly socket: string;
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly pidfile: string;
  readonly logPath: string;
  readonly configFile: string;
  /** The berthd.mjs it runs (BERTHD unless another build is named). */
  readonly binary: string;
  #child: ChildProcess | undefined;
  #exit: Promise<number | null> | undefined;

  constructor(dir: string, binary = BERTHD) {
    this.dir = dir;
    this.binary = binary;
    this.socket = join(dir, "berthd.sock");
    this.dataRoot = join(dir, "data");
    this.execRoot = join(dir, "exec");
    this.pidfile = join(dir, "berthd.pid");
    this.logPath = join(dir, "berthd.log");
    // An empty, private config file: the machine's /etc/berth/daemon.json must not steer a test.
    this.configFile = join(dir, "daemon.json");
  }

  /** The flags that keep this daemon private (socket, roots, pid file, config file). */
  privateArgs(): string[] {
    return [
      "-H",
      `unix://${this.socket}`,
      "--data-root",
      this.dataRoot,
      "--exec-root",
      this.execRoot,
      "--pidfile",
      this.pidfile,
      "--config-file",
      this.configFile,
    ];
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** The supervised berth-containerd's pid (its pid file under the exec root). */
  containerdPid(): number | undefined {
    try {
      return Number(readFileSync(join(this.execRoot, "containerd", "berth-containerd.pid"), "utf8").trim());
    } catch {
      return undefined;
    }
  }

  /** Starts berthd and waits until /_ping answers (or it exits: that throws with its log). */
  async start(extra: string[] = []): Promise<void> {
    const log = openSync(this.logPath, "a");
    const child = spawn(this.binary, [...this.privateArgs(), "--log-level", "debug", ...extra], {
      stdio: ["ignore", log, log],
    });
    this.#child = child;
    this.#exit = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
    const deadline = Date.now() + 30_000;
    for (;;) {
      const done = await Promise.race([this.#exit, sleep(100).then(() => "waiting" as const)]);
      if (done !== "waiting") throw new Error(`berthd exited with ${done}: ${await this.log()}`);
      if (existsSync(this.socket)) {
        const ping = await this.http("GET", "/_ping").catch(() => undefined);
        if (ping?.status === 200) return;
      }
      if (Date.now() > deadline) throw new Error(`berthd did not come up: ${await this.log()}`);
    }
  }

  async log(): Promise<string> {
    return readFile(this.logPath, "utf8").catch(() => "");
  }

  /** The real docker CLI against this daemon, with a private client config (and `env` added). */
  docker(args: string[], cli = DOCKER_CLI, env: Record<string, string> = {}): Promise<CommandResult> {
    const child = spawn(cli, ["-H", `unix://${this.socket}`, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, DOCKER_CONFIG: join(this.dir, "client-config"), DOCKER_API_VERSION: "", ...env },
      timeout: 60_000,
    });
    return outputOf(child);
  }

  /** One raw HTTP request on the socket. */
  http(
    method: string,
    path: string,
    body?: string | Buffer,
    headers: Record<string, string> = {},
  ): Promise<HttpAnswer> {
    return httpOn(this.socket, method, path, body, headers);
  }

  /** SIGTERM and the exit code. */
  async stop(): Promise<number | null> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    child.kill("SIGTERM");
    const t = setTimeout(() => child.kill("SIGKILL"), 20_000);
    const code = await this.#exit!;
    clearTimeout(t);
    return code;
  }

  /** A crash: SIGKILL, nothing cleaned up by berthd. */
  async kill9(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGKILL");
    await this.#exit;
  }

  /** Stops berthd, kills whatever mentions the dir (its berth-containerd, shims), removes it. */
  async cleanup(): Promise<void> {
    // berthd leaves containers running when it stops (live restore): a test that failed midway
    // may have left some, which are removed first, while berthd still serves.
    if (this.#child && this.#child.exitCode === null && this.#child.signalCode === null) {
      const list = await this.http("GET", "/containers/json?all=1").catch(() => undefined);
      const ids = list?.status === 200 ? (JSON.parse(list.body) as { Id: string }[]).map((c) => c.Id) : [];
      for (const id of ids) await this.http("DELETE", `/containers/${id}?force=1`).catch(() => {});
    }
    await this.stop();
    // Containers berthd could not remove: killed by their cgroups (berth/<id>, the ids its data
    // root holds). A container's root is in its own mount namespace, so nothing below would find
    // it, and killing its keeper alone leaves it running, orphaned.
    const ids = existsSync(join(this.dataRoot, "containers"))
      ? readdirSync(join(this.dataRoot, "containers")).filter((n) => /^[0-9a-f]{64}$/.test(n))
      : [];
    for (const id of ids) {
      await killCgroupTree(`berth/${id}`);
      await removeCgroupTree(`berth/${id}`);
    }
    for (let i = 0; i < 50 && pidsMentioning(this.dir).length > 0; i++) {
      if (i === 10) for (const pid of pidsMentioning(this.dir)) tryKill(pid, "SIGTERM");
      if (i === 30) for (const pid of pidsMentioning(this.dir)) tryKill(pid, "SIGKILL");
      await sleep(100);
    }
    // Whatever is still left there (berthd could not remove it): its processes (a keeper works in
    // its bundle, a container's root is under the dir) are killed and its mounts undone, so the
    // dir can go and nothing outlives the test.
    for (const pid of pidsRootedIn(this.dir)) tryKill(pid, "SIGKILL");
    await sleep(100);
    for (const m of mountsUnder(this.dir).reverse()) {
      await outputOf(spawn("umount", ["-l", m], { stdio: ["ignore", "pipe", "pipe"] })).catch(() => {});
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Processes whose working directory or root is below `dir`. */
function pidsRootedIn(dir: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    for (const link of ["cwd", "root"]) {
      try {
        if (readlinkSync(`/proc/${e}/${link}`).startsWith(`${dir}/`)) {
          out.push(Number(e));
          break;
        }
      } catch {}
    }
  }
  return out;
}

/** Mount points below `dir`, in mount order. */
function mountsUnder(dir: string): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((m) => m.startsWith(`${dir}/`));
}

function tryKill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {}
}

export function httpOn(
  socketPath: string,
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
): Promise<HttpAnswer> {
  return httpBytesOn(socketPath, method, path, body, headers).then(({ bytes: _, ...answer }) => answer);
}

/** One raw HTTP request on a socket; the answer's body also as bytes (a tar). */
export function httpBytesOn(
  socketPath: string,
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
): Promise<HttpAnswer & { bytes: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, headers, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const bytes = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: bytes.toString(), bytes });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error(`${method} ${path}: no answer in 30 s`)));
    req.end(body);
  });
}

/** A berthd in a fresh private dir (an empty daemon.json 0644 in it), not started yet. */
export async function newBerthd(binary?: string): Promise<Berthd> {
  const dir = await makeTempDir("berthd-");
  const d = new Berthd(dir, binary);
  writeFileSync(d.configFile, "{}\n");
  chmodSync(d.configFile, 0o644);
  return d;
}

/**
 * A started berthd with the busybox fixture imported into its berth-containerd's "berth"
 * namespace as busybox:latest (what `docker run busybox` finds).
 */
export async function berthdWithBusybox(): Promise<Berthd> {
  const d = await newBerthd();
  try {
    await d.start();
    const archive = join(d.dir, "busybox.tar");
    await writeImageArchive(archive, { name: "docker.io/library/busybox:latest" });
    const sock = join(d.execRoot, "containerd", "containerd.sock");
    const r = spawnSync("ctr", ["--address", sock, "-n", "berth", "images", "import", archive], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`ctr images import: ${r.stderr}`);
    return d;
  } catch (err) {
    await d.cleanup();
    throw err;
  }
}
