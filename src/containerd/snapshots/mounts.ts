// Pure policy: the mounts that present a snapshot, as containerd's overlay and native
// snapshotters return them. Also the label rules shared by both snapshotters.
import { InvalidArgumentError } from "../../common/errors.ts";
import type { Mount } from "../../common/mount/mount.ts";

export interface OverlayMountInput {
  kind: "active" | "view";
  /** This snapshot's upper (fs) and work directories. */
  fs: string;
  work: string;
  /** The committed parents' fs directories, nearest first. */
  parents: string[];
  /** The kernel knows overlay's "index" option (so "index=off" may be passed). */
  indexOff: boolean;
}

export function overlayMounts(s: OverlayMountInput): Mount[] {
  const ro = s.kind === "view" ? "ro" : "rw";
  // Overlay needs a lower layer: a snapshot without parents is its own directory, bound.
  if (s.parents.length === 0) return [{ type: "bind", source: s.fs, options: [ro, "rbind"] }];
  // A view of a single layer needs no overlay either: the parent itself, read-only.
  if (s.kind === "view" && s.parents.length === 1) {
    return [{ type: "bind", source: s.parents[0]!, options: ["ro", "rbind"] }];
  }
  const options = s.indexOff ? ["index=off"] : [];
  if (s.kind === "active") options.push(`workdir=${s.work}`, `upperdir=${s.fs}`);
  options.push(`lowerdir=${s.parents.join(":")}`);
  return [{ type: "overlay", source: "overlay", options }];
}

export interface NativeMountInput {
  kind: "active" | "view";
  /** This snapshot's directory (a full copy of its parent for active snapshots). */
  dir: string;
  /** The nearest parent's directory, if any: a view of it mounts it directly. */
  parent?: string;
}

export function nativeMounts(s: NativeMountInput): Mount[] {
  const source = s.kind === "active" || s.parent === undefined ? s.dir : s.parent;
  return [{ type: "bind", source, options: [s.kind === "view" ? "ro" : "rw", "rbind"] }];
}

/** containerd's limit: a label's key plus value must fit in 4096 bytes. */
const MAX_LABEL = 4096;

export function validateLabels(labels: Record<string, string>): void {
  for (const [k, v] of Object.entries(labels)) {
    if (k === "") throw new InvalidArgumentError("label key must not be empty");
    if (Buffer.byteLength(k) + Buffer.byteLength(v) > MAX_LABEL) {
      throw new InvalidArgumentError(
        `label ${JSON.stringify(k.slice(0, 64))}: key and value exceed ${MAX_LABEL} bytes`,
      );
    }
  }
}

/**
 * The labels after an update: no field paths (or "labels") replaces them all; "labels.<key>" sets
 * or (when `incoming` lacks it) deletes one. Other fields cannot be updated.
 */
export function updatedLabels(
  name: string,
  current: Record<string, string>,
  incoming: Record<string, string>,
  fieldPaths: string[] = [],
): Record<string, string> {
  if (fieldPaths.length === 0) return { ...incoming };
  let out = { ...current };
  for (const path of fieldPaths) {
    if (path === "labels") {
      out = { ...incoming };
    } else if (path.startsWith("labels.")) {
      const key = path.slice("labels.".length);
      const value = incoming[key];
      if (value === undefined) delete out[key];
      else out[key] = value;
    } else {
      throw new InvalidArgumentError(`cannot update ${JSON.stringify(path)} field on snapshot ${JSON.stringify(name)}`);
    }
  }
  return out;
}
