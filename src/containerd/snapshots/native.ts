// The native snapshotter (containerd's "native"): every active snapshot is a full copy of its
// parent in <root>/snapshots/<id>, made with cp -a (hard links, xattrs, devices, owners kept;
// reflinks where the file system has them). Works on any file system, at the cost of copies.
import { chmod } from "node:fs/promises";
import { execChecked } from "../../common/exec.ts";
import type { Mount } from "../../common/mount/mount.ts";
import { DirectorySnapshotter } from "./directory-snapshotter.ts";
import { nativeMounts } from "./mounts.ts";
import type { SnapshotStore } from "./store.ts";

async function copyTree(from: string, to: string): Promise<void> {
  // "from/." copies the contents (and the root's own metadata) into the existing "to".
  await execChecked("cp", ["-a", "--reflink=auto", "--", `${from}/.`, to], { stdio: ["ignore", "ignore", "pipe"] });
}

export class NativeSnapshotter extends DirectorySnapshotter {
  readonly name = "native";

  private constructor(root: string, store: SnapshotStore) {
    super(root, store);
  }

  static async open(root: string): Promise<NativeSnapshotter> {
    return new NativeSnapshotter(root, await DirectorySnapshotter.prepareRoot(root));
  }

  protected override async populate(tmp: string, kind: "active" | "view", parents: number[]): Promise<void> {
    const nearest = parents[0];
    // mkdtemp made it 0700; an empty root is an ordinary directory.
    if (nearest === undefined) await chmod(tmp, 0o755);
    // A view of a parent mounts the parent itself: no copy.
    else if (kind === "active") await copyTree(this.dir(nearest), tmp);
  }

  protected override mountsOf(kind: "active" | "view", id: number, parents: number[]): Mount[] {
    const nearest = parents[0];
    return nativeMounts({ kind, dir: this.dir(id), parent: nearest === undefined ? undefined : this.dir(nearest) });
  }

  protected override usageDir(id: number): string {
    return this.dir(id);
  }
}
