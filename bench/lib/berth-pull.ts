// A pull through berth's client library, as a command for the bench:
//   node bench/lib/berth-pull.ts --address SOCK --namespace NS [--snapshotter S] REF
import { pull } from "../../src/client/pull.ts";
import { parseReference } from "../../src/client/registry/reference.ts";
import { RegistryClient } from "../../src/client/registry/registry-client.ts";
import { RemoteContainerd } from "../../src/client/remote.ts";

const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args.splice(i, 2)[1]! : def;
};
const address = opt("address", "/run/berth/containerd/containerd.sock");
const namespace = opt("namespace", "default");
const snapshotter = opt("snapshotter", "overlayfs");
const ref = args.filter((a) => !a.startsWith("--")).at(-1);
if (!ref) throw new Error("usage: berth-pull.ts --address SOCK --namespace NS REF");
parseReference(ref);
const daemon = new RemoteContainerd(address, { namespace });
const registry = new RegistryClient({ credentials: () => undefined });
try {
  const image = await pull(daemon.ports(), registry, ref, { snapshotter });
  process.stdout.write(`${image.name} ${image.target.digest}\n`);
} finally {
  daemon.close();
  await registry.close();
}
