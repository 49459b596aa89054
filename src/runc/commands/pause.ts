import { parseFlags } from "../../common/flags.ts";
import type { Command } from "../cli/context.ts";
import { pauseContainer, resumeContainer } from "../container/lifecycle.ts";
import { idArg } from "./create.ts";

export const pause: Command = {
  name: "pause",
  summary: "freeze every process of a container",
  usage: "pause <container-id>",
  async run(ctx, argv) {
    pauseContainer(ctx.store, idArg(parseFlags(argv, {}).positionals, "pause"));
    return 0;
  },
};

export const resume: Command = {
  name: "resume",
  summary: "thaw a paused container",
  usage: "resume <container-id>",
  async run(ctx, argv) {
    resumeContainer(ctx.store, idArg(parseFlags(argv, {}).positionals, "resume"));
    return 0;
  },
};
