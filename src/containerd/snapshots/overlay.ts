// The overlayfs snapshotter (containerd's "overlayfs"): each snapshot is <id>/fs (its upper layer)
// and <id>/work; an active snapshot mounts its parents' fs dirs as lower layers under its own fs.
import { existsSync } from "node:fs";
import { lchown, mkdir, stat } from "node:fs/promises";
import type { Mount } from "../../common/mount/mount.ts";
import { DirectorySnapshotter } from "./directory-snapshotter.ts";
import { overlayMounts } from "./mounts.ts";
import type { SnapshotStore } from "./store.ts";

/** Whether the running kernel's overlay module has the "index" feature (so "index=off" is valid). */
function kernelHasOverlayIndex(): boolean {
  return existsSync("/sys/module/overlay/parameters/index");
}

export class OverlaySnapshotter extends DirectorySnapshotter {
  readonly name = "overlayfs";
  readonly #indexOff: boolean;

  private constructor(root: string, store: SnapshotStore, indexOff: boolean) {
    super(root, store);
    this.#indexOff = indexOff;
  }

  static async open(root: string, opts: { indexOff?: boolean } = {}): Promise<OverlaySnapshotter> {
    const store = await DirectorySnapshotter.prepareRoot(root);
    return new OverlaySnapshotter(root, store, opts.indexOff ?? kernelHasOverlayIndex());
  }

  /** The snapshot's upper directory: what a layer is applied into and what a diff reads. */
  fsDir(id: number): string {
    return `${this.dir(id)}/fs`;
  }

  protected override async populate(tmp: string, kind: "active" | "view", parents: number[]): Promise<void> {
    await mkdir(`${tmp}/fs`, 0o755);
    if (kind === "active") await mkdir(`${tmp}/work`, 0o700);
    // The upper's root owns the merged root: keep the parent's owner (remapped images).
    const nearest = parents[0];
    if (nearest !== undefined) {
      const st = await stat(this.fsDir(nearest));
      await lchown(`${tmp}/fs`, st.uid, st.gid);
    }
  }

  protected override mountsOf(kind: "active" | "view", id: number, parents: number[]): Mount[] {
    return overlayMounts({
      kind,
      fs: this.fsDir(id),
      work: `${this.dir(id)}/work`,
      parents: parents.map((p) => this.fsDir(p)),
      indexOff: this.#indexOff,
    });
  }

  protected override usageDir(id: number): string {
    return this.fsDir(id);
  }
}
