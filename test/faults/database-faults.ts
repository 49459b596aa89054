// The scene the database fault tests share: a daemon with the busybox image imported and one
// container running, stopped cleanly (so the databases are checkpointed into their main files),
// then a damaged database and the questions of test/faults/README.md: does the daemon refuse
// (naming the file), is every blob and snapshot directory still there, does the container still
// read its layers, and does `berth-containerd repair` bring the root back to a usable state.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { TestContext } from "node:test";
import {
  type BerthContainerd,
  BUSYBOX_IMAGE,
  type CtrResult,
  retryUntil,
  startWithBusybox,
} from "../helpers/berth-containerd.ts";

export type Daemon = BerthContainerd & { cleanup(): Promise<void> };

export const skip =
  process.getuid?.() !== 0 ? "fault tests run as root" : existsSync("/usr/bin/ctr") ? undefined : "no ctr";

export const metaDb = (d: BerthContainerd) => join(d.root, "io.containerd.metadata.v1.sqlite", "meta.db");
export const overlayDb = (d: BerthContainerd) => join(d.root, "io.containerd.snapshotter.v1.overlayfs", "metadata.db");

export const ok = (r: CtrResult, what: string): string => {
  assert.equal(r.status, 0, `${what}: ${r.stderr}${r.stdout}`);
  return r.stdout;
};

/**
 * Inode numbers of every blob file and snapshot directory under the root, wherever they are (in
 * place or moved into lost+found): moving keeps an inode, deleting loses it.
 */
export function storedInodes(root: string): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (dir: string, depth: number) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const st = lstatSync(p);
      if (/\/blobs\/sha256\/[a-f0-9]{64}$/.test(p) && st.isFile()) out.set(p, st.ino);
      else if (/\/snapshots\/[0-9]+$/.test(p) && st.isDirectory()) out.set(p, st.ino);
      else if (st.isDirectory() && depth < 6 && !/\/snapshots\/[0-9]+$/.test(p)) walk(p, depth + 1);
    }
  };
  walk(root, 0);
  return out;
}

/** Paths (as they were before) whose inode is gone from the root. */
export function lostSince(before: Map<string, number>, root: string): string[] {
  const now = new Set(storedInodes(root).values());
  return [...before].filter(([, ino]) => !now.has(ino)).map(([p]) => p);
}

/** The container's own `ls /`, read through its root without the daemon. */
export function lsInContainer(pid: number): string {
  const r = spawnSync("chroot", [`/proc/${pid}/root`, "/bin/ls", "/"], { encoding: "utf8" });
  assert.equal(r.status, 0, `ls / in the container: ${r.stderr}`);
  return r.stdout;
}

export interface Scene {
  d: Daemon;
  /** The running container's init. */
  pid: number;
  /** Blob files and snapshot directories before the fault. */
  before: Map<string, number>;
}

/** A daemon with busybox imported and container "c1" running `sleep`, stopped cleanly. */
export async function scene(t: TestContext): Promise<Scene> {
  const d = await startWithBusybox();
  ok(await d.ctrAsync(["run", "-d", BUSYBOX_IMAGE, "c1", "sleep", "1000"]), "run c1");
  const m = /^c1\s+(\d+)\s+RUNNING/m.exec(ok(await d.ctrAsync(["task", "ls"]), "task ls"));
  assert.ok(m, "c1 runs");
  const pid = Number(m[1]);
  assert.match(lsInContainer(pid), /\bbin\b/);
  await d.stop();
  const before = storedInodes(d.root);
  t.diagnostic(`${before.size} blobs and snapshot directories before the fault`);
  assert.ok(before.size >= 4, `blobs and snapshots: ${[...before.keys()].join(" ")}`);
  return { d, pid, before };
}

/** scene(), then `body` with it; the daemon and its dirs go afterwards, whatever happened. */
export async function withScene(t: TestContext, body: (s: Scene) => Promise<void>): Promise<void> {
  const s = await scene(t);
  try {
    await body(s);
  } finally {
    await s.d.cleanup();
  }
}

/**
 * The first questions after a fault: the daemon refuses to start on the damaged root, naming
 * `file`; no blob or snapshot directory was lost (`message` says what that means here); the
 * container still reads its layers. Returns the refusal.
 */
export async function refusedKeepingAll(s: Scene, file: string, message?: string): Promise<string> {
  const refused = await tryStart(s.d);
  assert.deepEqual(lostSince(s.before, s.d.root), [], message);
  assert.match(lsInContainer(s.pid), /\bbin\b/);
  return assertRefused(refused, file);
}

/** `berth-containerd repair` with its output printed, asserted to succeed; returns the output. */
export function repaired(t: TestContext, d: BerthContainerd): string {
  const r = repair(d);
  t.diagnostic(r.out);
  assert.equal(r.status, 0, r.out);
  return r.out;
}

/**
 * Starts the daemon on the damaged root. Returns the refusal (its log), or undefined when it
 * started (it is stopped again, so the test can first look at what the start deleted).
 */
export async function tryStart(d: Daemon): Promise<string | undefined> {
  const refused = await d.start().then(
    () => undefined,
    (err: Error) => err.message,
  );
  if (refused === undefined) await d.stop();
  return refused;
}

/** The refusal, asserted; `refused` from tryStart. */
export function assertRefused(refused: string | undefined, file: string): string {
  assert.ok(refused !== undefined, "the daemon started on a damaged database");
  assert.ok(refused.includes(file), `the refusal names ${file}: ${refused}`);
  assert.match(refused, /berth-containerd repair --root/);
  return refused;
}

/** `berth-containerd repair --root R [args]`. */
export function repair(d: BerthContainerd, args: string[] = []): { status: number; out: string } {
  // A build without the command would take "repair" for an argument and start a daemon on the
  // default root: ask its help first.
  const help = spawnSync(d.binary, ["--help"], { encoding: "utf8", timeout: 30_000 });
  assert.match(help.stdout, /^\s+repair\b/m, `${d.binary} has no repair command`);
  const r = spawnSync(d.binary, ["repair", "--root", d.root, ...args], { encoding: "utf8", timeout: 60_000 });
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

/** After repair: the daemon starts and the image runs again (re-imported when its record was lost). */
export async function usableAgain(d: Daemon, opts: { reimport: boolean }): Promise<void> {
  await d.start();
  if (opts.reimport) ok(await d.ctrAsync(["images", "import", join(d.dir, "busybox.tar")]), "re-import");
  const out = ok(await d.ctrAsync(["run", "--rm", BUSYBOX_IMAGE, "c2", "ls", "/"]), "run c2 after repair");
  assert.match(out, /\bbin\b/);
}

/** Kills and deletes c1 through the daemon (its record may be gone: then the shim is killed). */
export async function endC1(d: Daemon, pid: number): Promise<void> {
  await d.ctrAsync(["task", "kill", "-s", "SIGKILL", "c1"]);
  await retryUntil(
    () => d.ctrAsync(["task", "delete", "c1"]),
    (r) => r.status === 0 || /not found/.test(r.stderr),
  );
  await d.ctrAsync(["containers", "rm", "c1"]);
  if (existsSync(`/proc/${pid}`)) process.kill(pid, "SIGKILL");
}

/** The bytes of `needle` in a file (every occurrence). */
export function offsetsOf(path: string, needle: string): number[] {
  const buf = readFileSync(path);
  const out: number[] = [];
  for (let i = buf.indexOf(needle); i >= 0; i = buf.indexOf(needle, i + 1)) out.push(i);
  return out;
}

/** One committed layer snapshot's row in meta.db: its key and backend key. */
export function layerRow(d: BerthContainerd): { key: string; backendKey: string } {
  const db = new DatabaseSync(metaDb(d), { readOnly: true });
  try {
    const r = db
      .prepare("SELECT key, backend_key FROM snapshots WHERE snapshotter = 'overlayfs' AND kind = 'committed' LIMIT 1")
      .get() as { key: string; backend_key: string };
    return { key: r.key, backendKey: r.backend_key };
  } finally {
    db.close();
  }
}
