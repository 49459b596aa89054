import type { Command } from "../cli/context.ts";
import { bool, int, parseFlags, str } from "../cli/flags.ts";
import { createContainer } from "../container/create.ts";
import { deleteContainer, startContainer } from "../container/lifecycle.ts";
import { createFlags, idArg } from "./create.ts";

const runFlags = {
  ...createFlags,
  detach: { kind: "bool", aliases: ["d"], usage: "detach from the container's process" },
  keep: { kind: "bool", usage: "do not delete the container after it exits" },
} as const;

const FORWARDED = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH"] as const;

export const run: Command = {
  name: "run",
  summary: "create and start a container",
  usage: "run [options] <container-id>",
  async run(ctx, argv) {
    const p = parseFlags(argv, runFlags);
    const id = idArg(p.positionals, "run");
    const detach = bool(p, "detach");
    const created = await createContainer(ctx.store, {
      id,
      bundle: str(p, "bundle") ?? process.cwd(),
      consoleSocket: str(p, "console-socket"),
      pidFile: str(p, "pid-file"),
      noPivot: bool(p, "no-pivot"),
      noNewKeyring: bool(p, "no-new-keyring"),
      preserveFds: int(p, "preserve-fds") ?? 0,
      systemdCgroup: ctx.systemdCgroup,
      mode: detach ? "create" : "run",
      onWarning: (m) => ctx.log.warn(m),
    });
    try {
      await startContainer(ctx.store, id);
    } catch (err) {
      await deleteContainer(ctx.store, id, true);
      throw err;
    }
    if (detach) return 0;
    // Signals sent to the runtime are meant for the container.
    const pid = created.record.pid;
    for (const sig of FORWARDED) {
      process.on(sig, () => {
        try {
          process.kill(pid, sig);
        } catch {
          // Already exited.
        }
      });
    }
    const status = await created.exit;
    if (!bool(p, "keep")) await deleteContainer(ctx.store, id, true, (m) => ctx.log.warn(m));
    return status;
  },
};
