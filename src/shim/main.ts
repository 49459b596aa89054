// berth-shim: the shim v2 binary. containerd (or berth-containerd) runs it as
//   berth-shim -namespace NS -address DAEMON_SOCK -publish-binary BIN -id ID start   (cwd: bundle)
// which starts the long-lived shim and prints its ttrpc address, and as
//   berth-shim -namespace NS -address DAEMON_SOCK -id ID -bundle DIR delete
// which cleans up after a shim that died, printing a DeleteResponse. With no action it is the
// long-lived shim itself (started by `start`). The flags and the rest of the launch contract are
// bundle.ts's.

import { errorMessage } from "../common/errors.ts";
import { parseFlags, str, UsageError } from "../common/flags.ts";
import { restrictUmask } from "../common/secure-fs.ts";
import { SHIM_FLAGS } from "./bundle.ts";
import { cleanupBundle } from "./cleanup.ts";
import { serveShim } from "./serve.ts";
import { startShim } from "./start.ts";

function parentFd(parsed: ReturnType<typeof parseFlags>): number | undefined {
  const fd = parsed.values.get("parent-fd");
  if (fd === undefined) return undefined;
  if (typeof fd !== "number" || fd < 3) throw new UsageError(`-parent-fd ${String(fd)}: must be an fd past stdio`);
  return fd;
}

async function main(argv: string[]): Promise<number> {
  restrictUmask();
  const parsed = parseFlags(argv, SHIM_FLAGS);
  if (parsed.values.get("v") === true) {
    process.stdout.write("berth-shim:\n  Version: 0.4.0\n");
    return 0;
  }
  const action = parsed.positionals[0] ?? "";
  const ns = str(parsed, "namespace") ?? "";
  const id = str(parsed, "id") ?? "";
  const spare = parsed.values.get("spare") === true;
  if (ns === "" && !spare) throw new UsageError("shim namespace cannot be empty");
  if (id === "" && action !== "") throw new UsageError("shim id cannot be empty");
  const common = {
    namespace: ns,
    id,
    address: str(parsed, "address") ?? "",
    bundle: str(parsed, "bundle") ?? process.cwd(),
    debug: parsed.values.get("debug") === true,
  };
  switch (action) {
    case "start":
      process.stdout.write(await startShim(common, argv));
      return 0;
    case "delete":
      process.stdout.write(await cleanupBundle(common));
      return 0;
    case "":
      await serveShim({
        ...common,
        socket: str(parsed, "socket") ?? "",
        spare,
        adopt: parsed.values.get("adopt") === true,
        parentFd: parentFd(parsed),
      });
      return 0;
    default:
      throw new UsageError(`unknown action ${JSON.stringify(action)}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`berth-shim: ${errorMessage(err)}\n`);
    process.exitCode = 1;
  },
);
