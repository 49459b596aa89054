// berth save: GET /images/get?names=..., the tar to -o FILE (docker's CopyToFile) or to stdout,
// never to a terminal.
import { pipeline } from "node:stream/promises";
import { CliError } from "../errors.ts";
import { type Command, str } from "./command.ts";
import { platformQuery } from "./platform-query.ts";
import { checkOutputPath, copyToFile } from "./user-files.ts";

const command: Command = {
  usage: "save [OPTIONS] IMAGE [IMAGE...]",
  summary: "Save one or more images to a tar archive (streamed to STDOUT by default)",
  aliases: "berth image save, berth save",
  flags: [
    { long: "output", short: "o", kind: "string", help: "Write to a file, instead of STDOUT" },
    {
      long: "platform",
      kind: "string",
      help: 'Save only the given platform variant. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")',
      minApi: "1.48",
    },
  ],
  args: { min: 1 },
  async run(io, p) {
    const output = str(p, "output");
    if (!output && io.out.isTTY)
      throw new CliError("cowardly refusing to save to a terminal. Use the -o flag or redirect");
    if (output) checkOutputPath(output, "failed to save image");
    const query = new URLSearchParams();
    for (const name of p.args) query.append("names", name);
    const platform = str(p, "platform");
    if (platform) query.set("platform", platformQuery(platform));
    const body = await io.client().stream("GET", `/images/get?${query.toString()}`);
    if (output) await copyToFile(body, output, "failed to save image");
    else await pipeline(body, io.out);
  },
};
export default command;
