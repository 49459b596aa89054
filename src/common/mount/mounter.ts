// Mounting a snapshot's mounts on a directory with mount(8), and taking them down again. Used by
// the diff service when no fast path applies, and by tests.
import { mkdtemp, readFile, realpath, rmdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, relative } from "node:path";
import { BerthError, errorMessage } from "../errors.ts";
import { execChecked } from "../exec.ts";
import type { Mount } from "./mount.ts";

/** Runs mount(8) or umount(8); a failure names the command line and carries its stderr. */
async function run(cmd: string, args: string[], cwd?: string): Promise<void> {
  await execChecked(cmd, args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

const DIR_OPTIONS = ["lowerdir=", "upperdir=", "workdir="];
/** mount(2) takes at most a page of options; leave room for what mount(8) adds. */
const MAX_OPTIONS = 3500;

function commonDir(paths: string[]): string {
  let common = dirname(paths[0]!);
  while (!paths.every((p) => p === common || p.startsWith(`${common}/`))) common = dirname(common);
  return common;
}

/**
 * Options for mount(8), and the directory to run it in. A deep overlay's lowerdir list can exceed
 * the kernel's page limit; then the layer paths are made relative to their common parent and
 * mount(8) runs there (the kernel resolves them against the caller's cwd), as containerd does.
 */
export function mountCommand(m: Mount): { options: string[]; cwd?: string } {
  if (m.type !== "overlay" || m.options.join(",").length <= MAX_OPTIONS) return { options: m.options };
  const dirs = m.options.flatMap((o) => {
    const p = DIR_OPTIONS.find((d) => o.startsWith(d));
    return p ? o.slice(p.length).split(":") : [];
  });
  const cwd = commonDir(dirs);
  const options = m.options.map((o) => {
    const p = DIR_OPTIONS.find((d) => o.startsWith(d));
    if (!p) return o;
    return (
      p +
      o
        .slice(p.length)
        .split(":")
        .map((d) => relative(cwd, d) || ".")
        .join(":")
    );
  });
  return { options, cwd };
}

/** Mounts `mounts` on `target` in order (later ones stack on earlier ones). */
export async function mountAll(mounts: Mount[], target: string): Promise<void> {
  let done = 0;
  try {
    for (const m of mounts) {
      const { options, cwd } = mountCommand(m);
      // "--": a source (or target) starting with '-' is an operand, never one of mount(8)'s options.
      const args = ["-t", m.type, ...(options.length > 0 ? ["-o", options.join(",")] : []), "--", m.source, target];
      await run("mount", args, cwd);
      done++;
    }
  } catch (err) {
    for (; done > 0; done--) await run("umount", ["--", target]).catch(() => {});
    throw err;
  }
}

function unescapeMountinfo(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}

/** How many mounts sit directly on `target` (stacked ones count once each). */
export async function mountsOn(target: string): Promise<number> {
  // mountinfo holds resolved paths: a target reached through a symlink (a --state that is one)
  // must be resolved too, or its mounts are missed and a caller removes files through them.
  const resolved = await realpath(target).catch(() => target);
  const info = await readFile("/proc/self/mountinfo", "utf8");
  return info.split("\n").filter((line) => {
    const mountPoint = line.split(" ")[4];
    return mountPoint !== undefined && unescapeMountinfo(mountPoint) === resolved;
  }).length;
}

/** Unmounts everything on `target`: submounts (rbind) and mounts stacked on one another. */
export async function unmountAll(target: string): Promise<void> {
  do await run("umount", ["--recursive", "--", target]);
  while ((await mountsOn(target)) > 0);
}

/**
 * Runs `fn` with `mounts` mounted on a fresh temporary directory, and always takes them down
 * (and the directory) afterwards. `readonly` adds "ro" to every mount. No mounts: an empty dir.
 */
export async function withTempMount<T>(
  mounts: Mount[],
  readonly: boolean,
  fn: (root: string) => Promise<T>,
): Promise<T> {
  const target = await mkdtemp(`${tmpdir()}/berth-mount-`);
  const ms = readonly ? mounts.map((m) => ({ ...m, options: [...m.options.filter((o) => o !== "rw"), "ro"] })) : mounts;
  let mounted = false;
  let failure: unknown;
  try {
    await mountAll(ms, target);
    mounted = ms.length > 0;
    return await fn(target);
  } catch (err) {
    failure = err;
    throw err;
  } finally {
    try {
      if (mounted) await unmountAll(target);
      await rmdir(target);
    } catch (err) {
      // A leaked mount is worse than the original failure, but say both.
      const also = failure === undefined ? "" : ` (after: ${errorMessage(failure)})`;
      // biome-ignore lint/correctness/noUnsafeFinally: the cleanup failure must not be lost
      throw new BerthError("internal", `cleaning up ${target}: ${errorMessage(err)}${also}`, { cause: err });
    }
  }
}
