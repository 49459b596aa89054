// The fuzz targets by name, loaded on demand (a worker loads only the one it runs).
import type { FuzzTarget } from "../harness.ts";

export interface TargetEntry {
  /** Heap bound (MiB) of the worker the target runs in. */
  memoryMb: number;
  /** Builds the target; `scratch` is a private directory removed after the run. */
  load(scratch: string): Promise<FuzzTarget<unknown>>;
}

type Loader = (scratch: string) => Promise<FuzzTarget<unknown>>;
// Each module exports createTarget(scratch) returning its own FuzzTarget<Input>.
const lazy =
  (load: () => Promise<{ createTarget: (scratch: string) => unknown }>): Loader =>
  async (scratch) =>
    (await (await load()).createTarget(scratch)) as FuzzTarget<unknown>;

export const TARGETS: Record<string, TargetEntry> = {
  "tar-reader": { memoryMb: 256, load: lazy(() => import("./tar-reader.ts")) },
  "layer-apply": { memoryMb: 384, load: lazy(() => import("./layer-apply.ts")) },
  "runc-config": { memoryMb: 512, load: lazy(() => import("./runc-config.ts")) },
  "image-documents": { memoryMb: 256, load: lazy(() => import("./image-documents.ts")) },
  "ttrpc-grpc": { memoryMb: 256, load: lazy(() => import("./ttrpc-grpc.ts")) },
  "engine-api": { memoryMb: 256, load: lazy(() => import("./engine-api.ts")) },
  "engine-spec": { memoryMb: 256, load: lazy(() => import("./engine-spec.ts")) },
  "engine-images": { memoryMb: 256, load: lazy(() => import("./engine-images.ts")) },
};

export const TARGET_NAMES = Object.keys(TARGETS);
