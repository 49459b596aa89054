// Pure policy: when a layer can be applied or diffed straight on the snapshot's directories
// instead of mounting them first (mounting needs root and costs two mount(8) runs).

import type { Mount } from "../../common/mount/mount.ts";
import type { DiffSource } from "../archive/diff.ts";

export type ApplyTarget =
  /** An active overlay snapshot: write into its upper dir with overlay whiteouts. */
  | { kind: "overlay-upper"; upper: string; lowers: string[] }
  /** A writable bind mount: write into its source with plain whiteouts. */
  | { kind: "directory"; dir: string }
  /** Anything else: mount, apply plain, unmount. */
  | { kind: "mount" };

function option(m: Mount, key: string): string | undefined {
  const prefix = `${key}=`;
  return m.options.find((o) => o.startsWith(prefix))?.slice(prefix.length);
}

function lowerdirs(m: Mount): string[] {
  return option(m, "lowerdir")?.split(":") ?? [];
}

export function applyTarget(mounts: Mount[]): ApplyTarget {
  const m = mounts[0];
  if (mounts.length !== 1 || m === undefined) return { kind: "mount" };
  if (m.type === "overlay") {
    const upper = option(m, "upperdir");
    if (upper !== undefined) return { kind: "overlay-upper", upper, lowers: lowerdirs(m) };
  }
  if (m.type === "bind" && !m.options.includes("ro")) return { kind: "directory", dir: m.source };
  return { kind: "mount" };
}

/** The directory stack a mount list presents, top first; null when it is not a plain stack. */
function layerStack(mounts: Mount[]): string[] | null {
  if (mounts.length === 0) return [];
  const m = mounts[0]!;
  if (mounts.length !== 1) return null;
  if (m.type === "bind") return [m.source];
  if (m.type === "overlay") {
    const upper = option(m, "upperdir");
    return [...(upper === undefined ? [] : [upper]), ...lowerdirs(m)];
  }
  return null;
}

function sameStack(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * How to diff `upper` against `lower` without mounting, or null. An overlay whose lower layers
 * are exactly `lower` holds its changes in its upper dir; two directories are compared.
 */
export function diffSource(lower: Mount[], upper: Mount[]): DiffSource | null {
  const u = upper[0];
  if (upper.length !== 1 || u === undefined) return null;
  const lowerStack = layerStack(lower);
  if (lowerStack === null) return null;
  if (u.type === "overlay") {
    const up = option(u, "upperdir");
    if (up !== undefined && sameStack(lowerdirs(u), lowerStack)) return { kind: "overlay", upper: up };
    return null;
  }
  if (u.type !== "bind") return null;
  if (lowerStack.length === 0) return { kind: "plain", lower: null, upper: u.source };
  if (lowerStack.length === 1 && lower[0]?.type === "bind") {
    return { kind: "plain", lower: lowerStack[0]!, upper: u.source };
  }
  return null;
}
