// The native snapshotter (containerd's "native"): every active snapshot is a full copy of its
// parent in <root>/snapshots/<id>, made with cp -a (hard links, xattrs, devices, owners kept;
// reflinks where the file system has them). Works on any file system, at the cost of copies.
import { spawn } from "node:child_process";
import { chmod } from "node:fs/promises";
import { BerthError } from "../../common/errors.ts";
import type { Mount } from "../../common/mount/mount.ts";
import { DirectorySnapshotter } from "./directory-snapshotter.ts";
import { nativeMounts } from "./mounts.ts";
import type { SnapshotStore } from "./store.ts";

function copyTree(from: string, to: string): Promise<void> {
  return new Promise((resolve, reject) => {
    // "from/." copies the contents (and the root's own metadata) into the existing "to".
    const cp = spawn("cp", ["-a", "--reflink=auto", "--", `${from}/.`, to], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    cp.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    cp.on("error", reject);
    cp.on("close", (code, signal) => {
      if (code === 0) resolve();
      else reject(new BerthError("internal", `copying ${from}: cp ${signal ?? `exited ${code}`}: ${stderr.trim()}`));
    });
  });
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
