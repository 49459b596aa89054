// `berth-shim start`: starts the long-lived shim for a task and prints its ttrpc address. The
// shim is this same program re-run without an action, detached into its own session, so it
// outlives both this process and the daemon that ran it. One shim serves a daemon's namespace:
// a task joins it when it is already running. Containers that name a group (the annotations
// containerd's runc shim reads) share their group's shim instead; with one shim per container
// (BERTH_SHIM_PER_CONTAINER=1, bundle.ts) a task without a group gets a shim of its own.
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import * as net from "node:net";
import { join } from "node:path";
import { AlreadyExistsError, BerthError } from "../common/errors.ts";
import { ownDir } from "../common/secure-fs.ts";
import { Bundle, groupEnv, PARENT_FD, READY_FD, readShimEnv } from "./bundle.ts";

export interface ShimArgs {
  namespace: string;
  id: string;
  /** The daemon's gRPC address. */
  address: string;
  bundle: string;
  debug: boolean;
}

/** Where shim sockets live; containerd uses /run/containerd/s the same way. */
export const SOCKET_DIR = "/run/berth/s";

const LOCK_POLL_MS = 20;
const LOCK_STALE_MS = 15_000;

/** Annotations that put a container in a shared shim, in the order they are looked at. */
export const GROUP_ANNOTATIONS = ["io.containerd.runc.v2.group", "io.kubernetes.cri.sandbox-id"] as const;

/**
 * V8 settings of the long-lived shim: a shim holds a few small maps, so a small young generation
 * and heap keep its private memory down; no concurrent V8 helper threads either.
 */
export const SHIM_NODE_FLAGS = ["--max-semi-space-size=1", "--max-old-space-size=64", "--single-threaded"];

/** The socket of the shim serving `group` of a namespace (see groupOf). Pure. */
export function socketPathFor(address: string, namespace: string, group: string): string {
  // node:crypto is loaded here, not at start-up: it costs the long-lived shim 1.3 MB it never uses.
  const { createHash } = createRequire(import.meta.url)("node:crypto") as typeof import("node:crypto");
  // The parts are hashed as they are, NUL-separated (neither an address nor a namespace can hold
  // a NUL), never joined as a path: path.join would normalise a group such as `../ns2/x` into
  // the socket of container x of namespace ns2, handing this task to another namespace's shim.
  const h = createHash("sha256").update(`${address}\0${namespace}\0${group}`).digest("hex");
  return join(SOCKET_DIR, h);
}

/**
 * The group of a task that names none and shares its namespace's shim. No group a container names
 * is empty (an empty annotation is no group) and no task id is, so it cannot be taken by either.
 */
export const NAMESPACE_GROUP = "";

/**
 * The group whose shim serves task `id`: the one its bundle's config.json names, else its
 * namespace's (NAMESPACE_GROUP), or with `perContainer` its own id (a shim of its own).
 */
export function groupOf(bundle: string, id: string, perContainer = readShimEnv().perContainer): string {
  return namedGroup(bundle) ?? (perContainer ? id : NAMESPACE_GROUP);
}

/** The group a bundle's config.json names in its annotations, if any. */
function namedGroup(bundle: string): string | undefined {
  try {
    const spec = JSON.parse(readFileSync(new Bundle(bundle).config, "utf8")) as {
      annotations?: Record<string, unknown>;
    };
    for (const key of GROUP_ANNOTATIONS) {
      const v = spec.annotations?.[key];
      if (typeof v === "string" && v !== "") return v;
    }
  } catch {
    // No readable config.json: the daemon will say so at Create.
  }
  return undefined;
}

/** Whether a unix socket has a live server behind it. */
export function canConnect(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(path);
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/** What runs the long-lived shim: this program by default; berth-containerd names the script. */
export interface ShimLaunch {
  script: string | undefined;
  env: NodeJS.ProcessEnv;
  /**
   * Given by a daemon that starts the shim itself (berth-containerd): the shim gets one end of a
   * pipe (-parent-fd) and this callback the other, which the caller holds until the shim's first
   * Create has arrived. Only the caller holds that end (it is close-on-exec on this side), so
   * the shim reads EOF once the caller is gone, however early that was, and a shim that no task
   * reached exits (serve.ts). The caller keeps the end referenced; it need not read it.
   */
  holdParent?: (end: net.Socket) => void;
}

/**
 * `start`: the shim's socket address, starting the shim unless its group's shim is running. `argv`
 * are the shim flags (with or without "start"). berth-containerd calls this in-process for
 * berth-shim, which spares a Node start per container; other daemons run `berth-shim ... start`.
 */
export async function startShim(
  a: ShimArgs,
  argv: readonly string[],
  launch: ShimLaunch = { script: process.argv[1], env: process.env },
  group = groupOf(a.bundle, a.id),
): Promise<string> {
  const socket = socketPathFor(a.address, a.namespace, group);
  const address = `unix://${socket}`;
  // Containers of one group may start at once (in this process or in others): a lock file beside
  // the socket lets one of them start the shim while the others wait for it to serve.
  ownDir(SOCKET_DIR, 0o711);
  const lock = `${socket}.starting`;
  for (let waited = 0; ; waited += LOCK_POLL_MS) {
    if (existsSync(socket) && (await canConnect(socket))) {
      if (group === a.id) throw new AlreadyExistsError(`shim for ${a.id}: already running at ${address}`);
      new Bundle(a.bundle).writeAddress(address);
      return address;
    }
    try {
      writeFileSync(lock, String(process.pid), { flag: "wx", mode: 0o600 });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      // A starter that died leaves its lock: past the start timeout it is taken over.
      if (waited > LOCK_STALE_MS) rmSync(lock, { force: true });
      await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
    }
  }
  try {
    rmSync(socket, { force: true }); // left by a shim that died
    const args = ["-socket", socket, ...argv.filter((x) => x !== "start")];
    await spawnShim(launch, args, a.bundle, groupEnv(group));
  } finally {
    rmSync(lock, { force: true });
  }
  return address;
}

/**
 * Runs the long-lived shim (this program without an action) detached in its own session, and
 * resolves with its pid once it says "ready" on READY_FD.
 */
export async function spawnShim(
  launch: ShimLaunch,
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
): Promise<number> {
  const script = launch.script;
  if (!script) throw new BerthError("internal", "cannot tell which script to re-run");
  // $BERTH_SHIM_NODE_FLAGS replaces the V8 settings (for measuring others; bench/ctr-run.ts).
  const nodeFlags = readShimEnv(launch.env).nodeFlags ?? SHIM_NODE_FLAGS;
  const parentArgs = launch.holdParent ? ["-parent-fd", String(PARENT_FD)] : [];
  const child = spawn(process.execPath, [...nodeFlags, script, ...parentArgs, ...args], {
    cwd,
    detached: true,
    stdio: ["ignore", "ignore", "pipe", "pipe", ...(launch.holdParent ? (["pipe"] as const) : [])],
    env: { ...launch.env, ...env },
  });
  const parentEnd = launch.holdParent ? (child.stdio[PARENT_FD] as net.Socket) : undefined;
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  const ready = child.stdio[READY_FD] as net.Socket;
  await new Promise<void>((resolve, reject) => {
    let said = "";
    ready.setEncoding("utf8").on("data", (d: string) => {
      said += d;
      if (said.includes("ready\n")) resolve();
    });
    child.once("error", reject);
    child.once("exit", (code, sig) =>
      reject(new BerthError("internal", `shim exited (${sig ?? code}) before serving: ${stderr.trim()}`)),
    );
  }).catch((err: unknown) => {
    parentEnd?.destroy();
    throw err;
  });
  child.stderr?.destroy();
  ready.destroy();
  child.unref();
  if (parentEnd && launch.holdParent) {
    // Held, never read: it must not keep the caller's event loop alive.
    parentEnd.unref();
    launch.holdParent(parentEnd);
  }
  return child.pid ?? 0;
}

/** A spare shim, started ahead of need for the daemon at `address`; see serve.ts. */
export async function startSpare(launch: ShimLaunch, address: string): Promise<{ address: string; pid: number }> {
  const { randomBytes } = createRequire(import.meta.url)("node:crypto") as typeof import("node:crypto");
  ownDir(SOCKET_DIR, 0o711);
  const socket = join(SOCKET_DIR, `spare-${randomBytes(12).toString("hex")}`);
  const pid = await spawnShim(launch, ["-spare", "-socket", socket, "-address", address], "/");
  return { address: `unix://${socket}`, pid };
}
