import { parseFlags } from "../../common/flags.ts";
import type { Command } from "../cli/context.ts";
import { containerState, statusOf } from "../container/lifecycle.ts";
import { idArg } from "./create.ts";

export const state: Command = {
  name: "state",
  summary: "output the state of a container",
  usage: "state <container-id>",
  async run(ctx, argv) {
    const id = idArg(parseFlags(argv, {}).positionals, "state");
    const s = containerState(ctx.store, id);
    const rec = ctx.store.load(id);
    const out = {
      ...s,
      pid: s.pid ?? 0,
      rootfs: rec.rootfs,
      created: rec.created,
      owner: rec.owner,
      status: statusOf(ctx.store, rec),
    };
    process.stdout.write(`${JSON.stringify(out, null, "  ")}\n`);
    return 0;
  },
};
