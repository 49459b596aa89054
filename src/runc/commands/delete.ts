import { NotFoundError } from "../../common/errors.ts";
import { bool, parseFlags } from "../../common/flags.ts";
import type { Command } from "../cli/context.ts";
import { deleteContainer } from "../container/lifecycle.ts";
import { idArg } from "./create.ts";

export const del: Command = {
  name: "delete",
  summary: "delete a container and its resources",
  usage: "delete [--force] <container-id>",
  async run(ctx, argv) {
    const p = parseFlags(argv, { force: { kind: "bool", aliases: ["f"], usage: "kill a running container first" } });
    const id = idArg(p.positionals, "delete");
    try {
      await deleteContainer(ctx.store, id, bool(p, "force"), (m) => ctx.log.warn(m), ctx.trace);
    } catch (err) {
      // --force on a container that is already gone is not an error (runc behaves the same);
      // it also clears the reservation of a create that crashed before it wrote its state.
      if (err instanceof NotFoundError && bool(p, "force")) {
        if (ctx.store.hasOrphan(id)) ctx.store.remove(id);
        return 0;
      }
      throw err;
    }
    return 0;
  },
};
