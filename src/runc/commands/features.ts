import { parseFlags } from "../../common/flags.ts";
import type { Command } from "../cli/context.ts";
import { featuresDocument } from "../config/features.ts";

export const features: Command = {
  name: "features",
  summary: "show the features this runtime supports (runtime-spec features document)",
  usage: "features",
  async run(_ctx, argv) {
    parseFlags(argv, {});
    process.stdout.write(`${JSON.stringify(featuresDocument(), null, "    ")}\n`);
    return 0;
  },
};
