// berth import: POST /images/create?fromSrc= with a tar from a file or stdin ("-"), or a URL the
// daemon fetches itself (docker sends the URL; a daemon that does not fetch says so), the new
// image's id printed from the daemon's message.
import { CliError, UsageError } from "../errors.ts";
import { jsonMessages, showProgress } from "../format/progress.ts";
import { type Command, list, str } from "./command.ts";
import { referenceProblem } from "./image-ref.ts";
import { openInput } from "./user-files.ts";

const command: Command = {
  usage: "import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
  summary: "Import the contents from a tarball to create a filesystem image",
  aliases: "berth image import, berth import",
  flags: [
    {
      long: "change",
      short: "c",
      kind: "strings",
      type: "list",
      help: "Apply Dockerfile instruction to the created image",
    },
    { long: "message", short: "m", kind: "string", help: "Set commit message for imported image" },
    { long: "platform", kind: "string", help: "Set platform if server is multi-platform capable", minApi: "1.32" },
  ],
  args: { min: 1, max: 2 },
  async run(io, p) {
    const [source, ref] = p.args as [string, string | undefined];
    if (source === "") throw new UsageError("source cannot be empty");
    const problem = ref === undefined ? undefined : referenceProblem(ref);
    if (problem) throw new CliError(problem);
    const isUrl = /^https?:\/\//i.test(source);
    const query = new URLSearchParams();
    for (const c of list(p, "change")) query.append("changes", c);
    query.set("fromSrc", isUrl ? source : "-");
    const message = str(p, "message");
    if (message) query.set("message", message);
    const platform = str(p, "platform");
    if (platform) query.set("platform", platform);
    if (ref) query.set("repo", ref);
    const body = isUrl ? undefined : source === "-" ? process.stdin : openInput(source);
    try {
      const res = await io.client().stream("POST", `/images/create?${query.toString()}`, {
        ...(body ? { body, headers: { "Content-Type": "text/plain" } } : {}),
      });
      await showProgress(jsonMessages(res), io.out as NodeJS.WriteStream, io.out.isTTY === true);
    } finally {
      if (body === process.stdin) process.stdin.pause();
      else body?.destroy();
    }
  },
};
export default command;
