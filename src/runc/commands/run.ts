import { bool, parseFlags } from "../../common/flags.ts";
import type { Command } from "../cli/context.ts";
import { createContainer } from "../container/create.ts";
import { deleteContainer, startContainer } from "../container/lifecycle.ts";
import { forwardSignals } from "../container/signals.ts";
import { createFlags, createOptions, idArg } from "./create.ts";

const runFlags = {
  ...createFlags,
  detach: { kind: "bool", aliases: ["d"], usage: "detach from the container's process" },
  keep: { kind: "bool", usage: "do not delete the container after it exits" },
} as const;

export const run: Command = {
  name: "run",
  summary: "create and start a container",
  usage: "run [options] <container-id>",
  async run(ctx, argv) {
    const p = parseFlags(argv, runFlags);
    const id = idArg(p.positionals, "run");
    const detach = bool(p, "detach");
    const created = await createContainer(ctx.store, createOptions(ctx, p, id, detach ? "create" : "run"));
    try {
      await startContainer(ctx.store, id, ctx.trace);
    } catch (err) {
      await deleteContainer(ctx.store, id, true, undefined, ctx.trace);
      throw err;
    }
    if (detach) return 0;
    // Signals sent to the runtime are meant for the container.
    forwardSignals(created.record.pid);
    const status = await created.exit;
    if (!bool(p, "keep")) await deleteContainer(ctx.store, id, true, (m) => ctx.log.warn(m), ctx.trace);
    return status;
  },
};
