import { bool, parseFlags } from "../../common/flags.ts";
import type { Command } from "../cli/context.ts";
import { killContainer } from "../container/lifecycle.ts";
import { idArg } from "./create.ts";

export const kill: Command = {
  name: "kill",
  summary: "send a signal to a container's init (or all its processes)",
  usage: "kill [--all] <container-id> [signal]",
  async run(ctx, argv) {
    const p = parseFlags(argv, { all: { kind: "bool", aliases: ["a"], usage: "send to all processes" } });
    const id = idArg(p.positionals, "kill");
    killContainer(ctx.store, id, p.positionals[1] ?? "SIGTERM", bool(p, "all"));
    return 0;
  },
};
