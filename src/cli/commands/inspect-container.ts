// berth container inspect: inspect, containers only.
import { bool, type Command, str } from "./command.ts";
import { inspect } from "./inspect-lib.ts";

const command: Command = {
  usage: "container inspect [OPTIONS] CONTAINER [CONTAINER...]",
  summary: "Display detailed information on one or more containers",
  flags: [
    { long: "format", short: "f", kind: "string", help: "Format output using a custom template" },
    { long: "size", short: "s", kind: "bool", help: "Display total file sizes" },
  ],
  args: { min: 1 },
  run: (io, p) => inspect(io, p.args, ["container"], str(p, "format"), bool(p, "size")),
};
export default command;
