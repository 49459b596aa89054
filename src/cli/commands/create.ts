// berth create: the container made as docker create makes it (create-flow.ts), its id printed.
import { CREATE_FLAGS } from "../run/flags.ts";
import type { Command } from "./command.ts";
import { createContainer, createRequestOf } from "./create-flow.ts";

const command: Command = {
  usage: "create [OPTIONS] IMAGE [COMMAND] [ARG...]",
  summary: "Create a new container",
  aliases: "berth container create, berth create",
  flags: [...CREATE_FLAGS],
  interspersed: false,
  args: { min: 1 },
  async run(io, p) {
    const id = await createContainer(io, p, createRequestOf(p, "create", io.context.host));
    io.out.write(`${id}\n`);
  },
};
export default command;
