// A small real filesystem to fill up: a loop-mounted ext4 image (blocks, inodes and a journal as
// on a disk) or a tmpfs with size=, mounted on a directory the test names (a daemon's --root or
// --state). fill() takes the free space down to a few bytes (or `leave` bytes) with one filler
// file, free() deletes it, so "the disk is full" and "space was freed" are two calls. unmount()
// never throws and detaches the loop device, also after a failed test.

import { execFileSync, spawnSync } from "node:child_process";
import { closeSync, mkdirSync, openSync, statfsSync, writeSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "../fixtures/busybox.ts";
import { BerthContainerd, deleteAllTasks } from "./berth-containerd.ts";
import { mountsUnder } from "./invariants.ts";
import { pidsWithArgument } from "./peers.ts";

export interface SmallFs {
  /** Where it is mounted. */
  dir: string;
  kind: "ext4" | "tmpfs";
  /** Bytes a writer can still use (statfs f_bavail). */
  available(): number;
  /** Writes a filler file until `leave` bytes are left (0: until the filesystem refuses). */
  fill(leave?: number): void;
  /** Deletes the filler: the space is there again. */
  free(): Promise<void>;
  unmount(): Promise<void>;
}

const FILLER = ".berth-test-filler";
const CHUNK = Buffer.alloc(1 << 20);

/**
 * Mounts a `sizeMiB` filesystem of `kind` on `dir` (made if missing). ext4 is made with no blocks
 * reserved for root (the daemon runs as root and would use them) and a 1 KiB block size, so a
 * few bytes of slack are really few.
 */
export async function mountSmallFs(dir: string, opts: { kind: "ext4" | "tmpfs"; sizeMiB: number }): Promise<SmallFs> {
  mkdirSync(dir, { recursive: true });
  let image: string | undefined;
  let imageDir: string | undefined;
  if (opts.kind === "tmpfs") {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${opts.sizeMiB}m,mode=0711`, "tmpfs", dir]);
  } else {
    imageDir = await makeTempDir("berth-small-fs-");
    image = join(imageDir, "fs.img");
    execFileSync("truncate", ["-s", `${opts.sizeMiB}M`, image]);
    execFileSync("mkfs.ext4", ["-q", "-F", "-m", "0", "-b", "1024", image]);
    try {
      execFileSync("mount", ["-o", "loop", image, dir], { stdio: "pipe" });
    } catch (err) {
      await rm(imageDir, { recursive: true, force: true });
      throw err;
    }
  }
  const filler = join(dir, FILLER);
  const available = () => {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  };
  let mounted = true;
  return {
    dir,
    kind: opts.kind,
    available,
    fill(leave = 0) {
      const fd = openSync(filler, "a");
      try {
        for (;;) {
          const room = available() - leave;
          if (leave > 0 && room <= 0) return;
          const n = leave > 0 ? Math.min(CHUNK.length, room) : CHUNK.length;
          try {
            writeSync(fd, CHUNK, 0, n);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code === "ENOSPC") {
              if (n > 1 && leave === 0) {
                // The last partial block: smaller writes until not one byte fits.
                for (let size = n >> 1; size >= 1; size >>= 1) {
                  try {
                    while (writeSync(fd, CHUNK, 0, size) > 0);
                  } catch {}
                }
              }
              return;
            }
            throw err;
          }
        }
      } finally {
        closeSync(fd);
      }
    },
    async free() {
      await rm(filler, { force: true });
    },
    async unmount() {
      if (!mounted) return;
      mounted = false;
      // A lazy unmount when something still holds it (a test that failed midway): the loop
      // device, mounted with autoclear, detaches when the last user lets go.
      if (spawnSync("umount", [dir]).status !== 0) spawnSync("umount", ["-l", dir]);
      if (image) {
        const loops = spawnSync("losetup", ["-j", image], { encoding: "utf8" }).stdout;
        for (const m of loops.matchAll(/^(\/dev\/loop\d+):/gm)) spawnSync("losetup", ["-d", m[1]!]);
      }
      if (imageDir) await rm(imageDir, { recursive: true, force: true });
    },
  };
}

export type SmallFsDaemon = BerthContainerd & { fs: SmallFs; cleanup(): Promise<void> };

/**
 * A berth-containerd (the build under test, or `binary`) whose --root or --state (`on`) is a
 * fresh small filesystem; cleanup() deletes its tasks, stops it, unmounts the filesystem (the loop
 * device goes with it) and removes every file, also after a failed test.
 */
export async function startOnSmallFs(
  on: "root" | "state",
  fs: { kind: "ext4" | "tmpfs"; sizeMiB: number },
  binary?: string,
): Promise<SmallFsDaemon> {
  const dir = await makeTempDir("berth-small-fs-daemon-");
  const d = new BerthContainerd(dir, binary) as SmallFsDaemon;
  d.fs = await mountSmallFs(on === "root" ? d.root : d.state, fs);
  d.cleanup = async () => {
    if (d.pid !== undefined) await deleteAllTasks(d);
    await d.stop();
    // After a failed test: its shims, then what is mounted on the filesystem, then the filesystem.
    for (const pid of pidsWithArgument(d.address)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
    for (const mp of mountsUnder(dir).sort().reverse()) if (mp !== d.fs.dir) spawnSync("umount", ["-l", mp]);
    await d.fs.unmount();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await d.start();
  } catch (err) {
    await d.cleanup();
    throw err;
  }
  return d;
}
