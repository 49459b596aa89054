import { bool, type FlagSpecs, int, type Parsed, parseFlags, str, UsageError } from "../../common/flags.ts";
import type { Command, CommandContext } from "../cli/context.ts";
import { type CreateOptions, createContainer } from "../container/create.ts";

export const createFlags: FlagSpecs = {
  bundle: {
    kind: "string",
    aliases: ["b"],
    usage: "path to the root of the bundle directory (default: current directory)",
  },
  "console-socket": { kind: "string", usage: "unix socket that receives the pty master of a terminal container" },
  "pid-file": { kind: "string", usage: "file to write the container's init pid to" },
  "no-pivot": { kind: "bool", usage: "do not use pivot_root (for a rootfs on a ramdisk)" },
  "no-new-keyring": { kind: "bool", usage: "do not create a new session keyring" },
  "preserve-fds": { kind: "int", usage: "number of extra fds (from 3) to hand to the container" },
};

/** The options `create` and `run` share, from their flags. */
export function createOptions(ctx: CommandContext, p: Parsed, id: string, mode: "create" | "run"): CreateOptions {
  return {
    id,
    bundle: str(p, "bundle") ?? process.cwd(),
    consoleSocket: str(p, "console-socket"),
    pidFile: str(p, "pid-file"),
    noPivot: bool(p, "no-pivot"),
    noNewKeyring: bool(p, "no-new-keyring"),
    preserveFds: int(p, "preserve-fds") ?? 0,
    systemdCgroup: ctx.systemdCgroup,
    mode,
    onWarning: (m) => ctx.log.warn(m),
    trace: ctx.trace,
  };
}

export function idArg(positionals: string[], cmd: string): string {
  const id = positionals[0];
  if (!id) throw new UsageError(`"${cmd}" requires exactly 1 argument`);
  return id;
}

export const create: Command = {
  name: "create",
  summary: "create a container",
  usage: "create [options] <container-id>",
  async run(ctx, argv) {
    const p = parseFlags(argv, createFlags);
    const id = idArg(p.positionals, "create");
    ctx.log.info("create container", { id });
    await createContainer(ctx.store, createOptions(ctx, p, id, "create"));
    return 0;
  },
};
