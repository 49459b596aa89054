// berth image inspect: inspect, images only.
import { type Command, str } from "./command.ts";
import { inspect } from "./inspect-lib.ts";
import { platformJson } from "./platform-list.ts";

const command: Command = {
  usage: "image inspect [OPTIONS] IMAGE [IMAGE...]",
  summary: "Display detailed information on one or more images",
  flags: [
    { long: "format", short: "f", kind: "string", help: "Format output using a custom template" },
    {
      long: "platform",
      kind: "string",
      help: "Inspect one platform of a multi-platform image ('os[/arch[/variant]]', e.g. linux/amd64); an image or daemon without several platforms fails when it does not match",
      minApi: "1.49",
    },
  ],
  args: { min: 1 },
  run: (io, p) => {
    const platform = str(p, "platform") ?? "";
    return inspect(
      io,
      p.args,
      ["image"],
      str(p, "format"),
      false,
      platform === "" ? undefined : platformJson(platform),
    );
  },
};
export default command;
