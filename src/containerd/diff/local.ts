// The diff service on this machine (containerd's "walking" differ plus the overlay fast paths):
// apply a layer onto a snapshot's mounts, and write the diff between two mount sets as a layer.
import type { Readable, Writable } from "node:stream";
import type { Fsops } from "../../common/archive/fsops.ts";
import type { Mount } from "../../common/mount/mount.ts";
import { withTempMount } from "../../common/mount/mounter.ts";
import { type ApplyResult, applyLayer } from "../archive/apply.ts";
import { type DiffResult, type WriteDiffOptions, writeDiff } from "../archive/diff.ts";
import { applyTarget, diffSource } from "./fast-path.ts";

export interface DiffApplyOptions {
  signal?: AbortSignal;
  /** Cumulative compressed bytes read from the layer. */
  onProgress?(bytes: number): void;
}

export class LocalDiffService {
  readonly #fsops: Fsops | undefined;

  constructor(opts: { fsops?: Fsops } = {}) {
    this.#fsops = opts.fsops;
  }

  /**
   * Applies `layer` (tar, gzip or zstd) onto the snapshot `mounts` present. The layer is closed
   * when this ends, read or not.
   */
  async apply(mounts: Mount[], layer: Readable, opts: DiffApplyOptions = {}): Promise<ApplyResult> {
    const common = { signal: opts.signal, onProgress: opts.onProgress, fsops: this.#fsops };
    // Reading starts only once the target is ready (a temporary mount takes a while, and may
    // fail): an error of the stream meanwhile (its file removed, an I/O error) reaches the
    // reader when it starts, and must not be an unhandled 'error' event, which ends the daemon.
    layer.on("error", () => {});
    try {
      const target = applyTarget(mounts);
      switch (target.kind) {
        case "overlay-upper":
          return await applyLayer(layer, target.upper, { ...common, whiteouts: "overlay", parents: target.lowers });
        case "directory":
          return await applyLayer(layer, target.dir, { ...common, whiteouts: "plain" });
        case "mount":
          return await withTempMount(mounts, false, (root) =>
            applyLayer(layer, root, { ...common, whiteouts: "plain" }),
          );
      }
    } finally {
      layer.destroy();
    }
  }

  /** Writes the changes of `upper` relative to `lower` to `output` as a layer tar; ends `output`. */
  async diff(lower: Mount[], upper: Mount[], output: Writable, opts: WriteDiffOptions = {}): Promise<DiffResult> {
    const o = { ...opts, fsops: opts.fsops ?? this.#fsops };
    // Written only once the sources are mounted: an error of `output` meanwhile (a file that could
    // not be opened) is answered by the writing pipeline, not left an unhandled 'error' event.
    output.on("error", () => {});
    const direct = diffSource(lower, upper);
    if (direct !== null) return writeDiff(direct, output, o);
    return withTempMount(lower, true, (l) =>
      withTempMount(upper, true, (u) =>
        writeDiff({ kind: "plain", lower: lower.length === 0 ? null : l, upper: u }, output, o),
      ),
    );
  }
}
