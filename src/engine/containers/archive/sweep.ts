// Temp mounts a killed berthd left behind. docker cp, export, create and exec mount a container's
// snapshot on a fresh /tmp/berth-mount-* directory for the length of one operation
// (common/mount/mounter.ts's withTempMount) and take it down after; a berthd killed meanwhile
// cannot. At start-up, before any operation runs, the ones whose overlay layers are below this
// berthd's data root are unmounted and their directories removed: they can only be its own (a
// data root has one berthd), and another berthd's, or a mount of Debian's containerd's
// snapshots (--containerd), is never touched.
import { readdirSync, readFileSync, rmdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { errorMessage } from "../../../common/errors.ts";
import type { DaemonLogger } from "../../../common/log.ts";
import { unmountAll } from "../../../common/mount/mounter.ts";

/** Mount points of withTempMount's whose options name a path below `dataRoot`. Pure. */
export function leftoverMounts(mountinfo: string, dataRoot: string, tmp = tmpdir()): string[] {
  const prefix = `${tmp}/berth-mount-`;
  const root = dataRoot.endsWith("/") ? dataRoot : `${dataRoot}/`;
  const out = new Set<string>();
  for (const line of mountinfo.split("\n")) {
    const fields = line.split(" ");
    const point = fields[4];
    if (point === undefined || !point.startsWith(prefix) || point.slice(prefix.length).includes("/")) continue;
    // After " - ": fstype, source, super options (lowerdir=..., upperdir=...).
    const sep = fields.indexOf("-");
    const options = sep < 0 ? "" : (fields[sep + 3] ?? "");
    if (options.split(/[,:=]/).some((p) => p.startsWith(root))) out.add(point);
  }
  return [...out];
}

/** Unmounts and removes what leftoverMounts finds; failures are logged, not fatal. */
export async function sweepTempMounts(dataRoot: string, log: DaemonLogger): Promise<void> {
  let info: string;
  try {
    info = readFileSync("/proc/self/mountinfo", "utf8");
  } catch {
    return;
  }
  for (const point of leftoverMounts(info, dataRoot)) {
    try {
      await unmountAll(point);
      rmdirSync(point);
      log.info("removed a temp mount a previous berthd left", { path: point });
    } catch (err) {
      log.warn("a temp mount a previous berthd left could not be removed", { path: point, error: errorMessage(err) });
    }
  }
}

/** docker cp bodies a killed berthd left spooled in `spoolDir` (extract.ts names them put-*.tar). */
export function sweepSpooledBodies(spoolDir: string): number {
  let removed = 0;
  for (const name of readdirSync(spoolDir)) {
    if (!/^put-[0-9]+-[0-9]+-[0-9a-z]+\.tar$/.test(name)) continue;
    rmSync(join(spoolDir, name), { force: true });
    removed++;
  }
  return removed;
}
