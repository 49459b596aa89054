// berth image inspect: inspect, images only.
import { type Command, str } from "./command.ts";
import { inspect } from "./inspect-lib.ts";

const command: Command = {
  usage: "image inspect [OPTIONS] IMAGE [IMAGE...]",
  summary: "Display detailed information on one or more images",
  flags: [{ long: "format", short: "f", kind: "string", help: "Format output using a custom template" }],
  args: { min: 1 },
  run: (io, p) => inspect(io, p.args, ["image"], str(p, "format")),
};
export default command;
