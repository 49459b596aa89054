import { parseFlags } from "../../common/flags.ts";
import type { Command } from "../cli/context.ts";
import { startContainer } from "../container/lifecycle.ts";
import { idArg } from "./create.ts";

export const start: Command = {
  name: "start",
  summary: "start a created container",
  usage: "start <container-id>",
  async run(ctx, argv) {
    const id = idArg(parseFlags(argv, {}).positionals, "start");
    await startContainer(ctx.store, id, ctx.trace);
    return 0;
  },
};
