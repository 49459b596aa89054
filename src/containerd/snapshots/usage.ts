// Disk usage of a directory tree as du(1) counts it: allocated blocks (st_blocks * 512), each
// inode once however many names it has, the root directory included.
import { lstat, readdir } from "node:fs/promises";
import type { SnapshotUsage } from "./snapshotter.ts";

const CONCURRENCY = 32;

export async function diskUsage(root: string): Promise<SnapshotUsage> {
  const seen = new Set<string>();
  let size = 0;
  const count = async (path: string): Promise<boolean> => {
    const st = await lstat(path, { bigint: true });
    const key = `${st.dev}:${st.ino}`;
    if (!seen.has(key)) {
      seen.add(key);
      size += Number(st.blocks) * 512;
    }
    return st.isDirectory();
  };
  await count(root);
  // Breadth-first over directories, a bounded number of them read at once.
  const dirs = [root];
  const worker = async () => {
    for (let dir = dirs.pop(); dir !== undefined; dir = dirs.pop()) {
      const entries = await readdir(dir);
      const isDir = await Promise.all(entries.map((name) => count(`${dir}/${name}`)));
      entries.forEach((name, i) => {
        if (isDir[i]) dirs.push(`${dir}/${name}`);
      });
    }
  };
  // Workers stop when the queue is momentarily empty; loop until no directory is left.
  while (dirs.length > 0) await Promise.all(Array.from({ length: Math.min(CONCURRENCY, dirs.length) }, worker));
  return { size, inodes: seen.size };
}
