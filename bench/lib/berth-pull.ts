// A pull through berth's client library, as a command for the bench:
//   node bench/lib/berth-pull.ts --address SOCK --namespace NS [--snapshotter S] REF

import { RemoteContainerd } from "../../src/client/remote.ts";
import { transferPull } from "../../src/client/transfer.ts";
import { parseReference } from "../../src/oci/registry/reference.ts";
import { RegistryClient } from "../../src/oci/registry/registry-client.ts";
import type { ProgressEvent } from "../../src/oci/transfer/progress.ts";
import { pull } from "../../src/oci/transfer/pull.ts";

const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args.splice(i, 2)[1]! : def;
};
const address = opt("address", "/run/berth/containerd/containerd.sock");
const namespace = opt("namespace", "default");
const snapshotter = opt("snapshotter", "overlayfs");
// "client": the client fetches and writes over gRPC (containerd's client model); "transfer": the
// daemon fetches (berth's transfer service).
const mode = opt("mode", "client");
const ref = args.filter((a) => !a.startsWith("--")).at(-1);
if (!ref) throw new Error("usage: berth-pull.ts --address SOCK --namespace NS REF");
parseReference(ref);
const daemon = new RemoteContainerd(address, { namespace });
const registry = new RegistryClient({ credentials: () => undefined });
try {
  const t0 = performance.now();
  const trace = process.env.BERTH_PULL_TRACE === "1";
  const progress = (e: ProgressEvent) => {
    if (trace && e.phase !== "downloading")
      process.stderr.write(`${(performance.now() - t0).toFixed(0)}ms ${e.phase} ${e.digest.slice(7, 19)}\n`);
  };
  if (mode === "transfer") {
    const image = await transferPull(address, ref, { namespace, snapshotter, progress });
    process.stdout.write(`${image.name} ${image.digest}\n`);
  } else {
    const image = await pull(daemon.ports(), registry, ref, { snapshotter, progress });
    process.stdout.write(`${image.name} ${image.target.digest}\n`);
  }
} finally {
  daemon.close();
  await registry.close();
}
