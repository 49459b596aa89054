// `berth-shim delete`: what the daemon runs when a shim died without deleting its task. It
// force-deletes the container with the runtime the bundle recorded, ends the task's keeper,
// takes the rootfs mounts down and answers a DeleteResponse (a killed task: 128 + SIGKILL).
import { readFileSync } from "node:fs";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { mountsOn, unmountAll } from "../common/mount/mounter.ts";
import { DeleteResponseSchema } from "../proto/gen/containerd/task/v2/shim_pb.js";
import { Bundle } from "./bundle.ts";
import { Keeper, keepersOf, killKeeper, removeKeeperFiles } from "./keeper.ts";
import { CliRuntime } from "./runtime.ts";
import { defaultRuntime, runtimeRootBase } from "./serve.ts";
import { type BundleRuntime, runtimeFor } from "./service.ts";
import type { ShimArgs } from "./start.ts";

export async function cleanupBundle(a: ShimArgs): Promise<Uint8Array> {
  const bundle = new Bundle(a.bundle);
  let rt: BundleRuntime;
  try {
    rt = JSON.parse(readFileSync(bundle.runtimeOptions, "utf8")) as BundleRuntime;
  } catch {
    rt = runtimeFor(undefined, {
      namespace: a.namespace,
      defaultRuntime: defaultRuntime(),
      runtimeRootBase: runtimeRootBase(),
    });
  }
  const runtime = new CliRuntime({ binary: rt.binary, root: rt.root, logFile: bundle.runtimeLog });
  await runtime.delete(a.id, true).catch(() => {});
  await endKeeper(bundle);
  if ((await mountsOn(bundle.rootfs)) > 0) await unmountAll(bundle.rootfs);
  let pid = 0;
  try {
    pid = Number.parseInt(readFileSync(bundle.pidFile(""), "utf8"), 10) || 0;
  } catch {}
  return toBinary(
    DeleteResponseSchema,
    create(DeleteResponseSchema, { pid, exitStatus: 128 + 9, exitedAt: timestampFromDate(new Date()) }),
  );
}

/**
 * Ends the task's keeper once its container is gone: QUIT when it answers, else SIGKILL to the
 * berth-keeper whose fd 3 is this bundle (one that does not answer HELLO tells no pid).
 */
async function endKeeper(bundle: Bundle): Promise<void> {
  let socketPath: string;
  try {
    socketPath = bundle.readKeeper();
  } catch {
    return; // the file is written before a keeper starts: none did
  }
  try {
    await (await Keeper.connect(bundle.dir)).quit();
    return;
  } catch {}
  for (const pid of keepersOf(bundle.dir)) killKeeper(pid);
  removeKeeperFiles(bundle, socketPath);
}
