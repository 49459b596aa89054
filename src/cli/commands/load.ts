// berth load: POST /images/load with the tar from -i FILE or stdin (never a terminal: docker's
// refusal), the daemon's "Loaded image: ..." lines shown as docker shows its messages. quiet is
// sent when asked, or when stdout is not a terminal (docker does the same).
import { pipeline } from "node:stream/promises";
import { CliError } from "../errors.ts";
import { jsonMessages, showProgress } from "../format/progress.ts";
import { bool, type Command, str } from "./command.ts";
import { platformQuery } from "./platform-query.ts";
import { openInput } from "./user-files.ts";

const command: Command = {
  usage: "load [OPTIONS]",
  summary: "Load an image from a tar archive or STDIN",
  aliases: "berth image load, berth load",
  flags: [
    { long: "input", short: "i", kind: "string", help: "Read from tar archive file, instead of STDIN" },
    {
      long: "platform",
      kind: "string",
      help: 'Load only the given platform variant. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")',
      minApi: "1.48",
    },
    { long: "quiet", short: "q", kind: "bool", help: "Suppress the load output" },
  ],
  args: { max: 0 },
  async run(io, p) {
    const input = str(p, "input");
    const platformSpec = str(p, "platform");
    const platform = platformSpec ? platformQuery(platformSpec) : undefined;
    if (!input && process.stdin.isTTY) throw new CliError("requested load from stdin, but stdin is empty");
    const body = input ? openInput(input) : process.stdin;
    const quiet = bool(p, "quiet") || io.out.isTTY !== true;
    try {
      const res = await io.client().stream("POST", "/images/load", {
        query: { platform, quiet: quiet || undefined },
        body,
        headers: { "Content-Type": "application/x-tar" },
      });
      if (String(res.headers["content-type"] ?? "").startsWith("application/json")) {
        await showProgress(jsonMessages(res), io.out as NodeJS.WriteStream, io.out.isTTY === true);
      } else await pipeline(res, io.out);
    } finally {
      // The daemon may answer (a refusal) before it read the whole archive: stop reading it.
      if (input) body.destroy();
      else process.stdin.pause();
    }
  },
};
export default command;
