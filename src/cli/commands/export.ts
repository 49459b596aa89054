// berth export: GET /containers/{id}/export, the tar to -o FILE or to stdout (never a terminal).
import { pipeline } from "node:stream/promises";
import { CliError } from "../errors.ts";
import { type Command, str } from "./command.ts";
import { copyToFile } from "./user-files.ts";

const command: Command = {
  usage: "export [OPTIONS] CONTAINER",
  summary: "Export a container's filesystem as a tar archive",
  aliases: "berth container export, berth export",
  flags: [{ long: "output", short: "o", kind: "string", help: "Write to a file, instead of STDOUT" }],
  args: { min: 1, max: 1 },
  async run(io, p) {
    const output = str(p, "output");
    if (!output && io.out.isTTY)
      throw new CliError("cowardly refusing to save to a terminal. Use the -o flag or redirect");
    const body = await io.client().stream("GET", `/containers/${encodeURIComponent(p.args[0] as string)}/export`);
    if (output) await copyToFile(body, output, "failed to export container");
    else await pipeline(body, io.out);
  },
};
export default command;
