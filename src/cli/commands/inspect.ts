// berth inspect: low-level information on containers and images (--type picks one).
import { UsageError } from "../errors.ts";
import { bool, type Command, str } from "./command.ts";
import { inspect, type Kind } from "./inspect-lib.ts";

const command: Command = {
  usage: "inspect [OPTIONS] NAME|ID [NAME|ID...]",
  summary: "Return low-level information on Docker objects",
  flags: [
    { long: "format", short: "f", kind: "string", help: "Format output using a custom template" },
    { long: "size", short: "s", kind: "bool", help: "Display total file sizes if the type is container" },
    { long: "type", kind: "string", help: "Return JSON for specified type" },
  ],
  args: { min: 1 },
  async run(io, p) {
    const type = str(p, "type");
    let kinds: Kind[] = ["container", "image"];
    if (type === "container" || type === "image") kinds = [type];
    else if (type) throw new UsageError(`"${type}" is not a valid value for --type`, 1);
    await inspect(io, p.args, kinds, str(p, "format"), bool(p, "size"));
  },
};
export default command;
