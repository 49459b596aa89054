// `berth-shim delete`: what the daemon runs when a shim died without deleting its task. It
// force-deletes the container with the runtime the bundle recorded, takes the rootfs mounts down
// and answers a DeleteResponse (a killed task: 128 + SIGKILL).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { mountsOn, unmountAll } from "../common/mount/mounter.ts";
import { DeleteResponseSchema } from "../proto/gen/containerd/task/v2/shim_pb.js";
import { CliRuntime } from "./runtime.ts";
import { defaultRuntime, runtimeRootBase } from "./serve.ts";
import { type BundleRuntime, runtimeFor } from "./service.ts";
import type { ShimArgs } from "./start.ts";

export async function cleanupBundle(a: ShimArgs): Promise<Uint8Array> {
  let rt: BundleRuntime;
  try {
    rt = JSON.parse(readFileSync(join(a.bundle, "runtime.json"), "utf8")) as BundleRuntime;
  } catch {
    rt = runtimeFor(undefined, {
      namespace: a.namespace,
      defaultRuntime: defaultRuntime(),
      runtimeRootBase: runtimeRootBase(),
    });
  }
  const runtime = new CliRuntime({ binary: rt.binary, root: rt.root, logFile: join(a.bundle, "log.json") });
  await runtime.delete(a.id, true).catch(() => {});
  const rootfs = join(a.bundle, "rootfs");
  if ((await mountsOn(rootfs)) > 0) await unmountAll(rootfs);
  let pid = 0;
  try {
    pid = Number.parseInt(readFileSync(join(a.bundle, "init.pid"), "utf8"), 10) || 0;
  } catch {}
  return toBinary(
    DeleteResponseSchema,
    create(DeleteResponseSchema, { pid, exitStatus: 128 + 9, exitedAt: timestampFromDate(new Date()) }),
  );
}
