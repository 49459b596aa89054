// berth history: GET /images/{name}/history, newest layer first.

import { CliError } from "../errors.ts";
import { ellipsis, truncateId } from "../format/ps-context.ts";
import { humanSince, humanSize } from "../format/units.ts";
import { bool, type Command, str } from "./command.ts";
import { printList } from "./output.ts";
import { platformJson } from "./platform-list.ts";

interface Layer {
  Id: string;
  Created: number;
  CreatedBy?: string;
  Size?: number;
  Comment?: string;
  Tags?: string[] | null;
}

const command: Command = {
  usage: "history [OPTIONS] IMAGE",
  summary: "Show the history of an image",
  aliases: "berth image history, berth history",
  args: { min: 1, max: 1 },
  flags: [
    { long: "format", kind: "string", help: "Format output using a custom template" },
    { long: "human", short: "H", kind: "bool", default: true, help: "Print sizes and dates in human readable format" },
    { long: "no-trunc", kind: "bool", help: "Don't truncate output" },
    {
      long: "platform",
      kind: "string",
      help: 'Show history for the given platform. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")',
      minApi: "1.48",
    },
    { long: "quiet", short: "q", kind: "bool", help: "Only show image IDs" },
  ],
  async run(io, p) {
    const spec = str(p, "platform") ?? "";
    let platform: string | undefined;
    try {
      platform = spec === "" ? undefined : platformJson(spec);
    } catch (e) {
      // history's words put "invalid platform: " before containerd's.
      throw e instanceof CliError ? new CliError(`invalid platform: ${e.message}`) : e;
    }
    const layers = await io
      .client()
      .json<Layer[]>("GET", `/images/${encodeURIComponent(p.args[0] as string)}/history`, {
        query: { platform },
      });
    const trunc = !bool(p, "no-trunc");
    const human = p.flags.get("human") !== false;
    const now = Date.now();
    const rows = (layers ?? []).map((l) => {
      const createdBy = (l.CreatedBy ?? "").replaceAll("\t", " ");
      return {
        Comment: l.Comment ?? "",
        CreatedAt: new Date(l.Created * 1000).toISOString().replace(/\.000Z$/, "Z"),
        CreatedBy: trunc ? ellipsis(createdBy, 45) : createdBy,
        CreatedSince:
          l.Created <= 0
            ? "N/A"
            : human
              ? humanSince(l.Created, now)
              : new Date(l.Created * 1000).toISOString().replace(/\.000Z$/, "Z"),
        ID: l.Id === "<missing>" ? l.Id : trunc ? truncateId(l.Id) : l.Id,
        Size: human ? humanSize(l.Size ?? 0) : String(l.Size ?? 0),
      };
    });
    const format = str(p, "format");
    if (bool(p, "quiet") && format === undefined) {
      for (const r of rows) io.out.write(`${r.ID}\n`);
      return;
    }
    printList(io, format, rows, {
      columns: [
        { header: "IMAGE", field: "{{.ID}}" },
        { header: "CREATED", field: "{{.CreatedSince}}" },
        { header: "CREATED BY", field: "{{.CreatedBy}}" },
        { header: "SIZE", field: "{{.Size}}" },
        { header: "COMMENT", field: "{{.Comment}}" },
      ],
      extraHeaders: { CreatedAt: "CREATED AT" },
    });
  },
};
export default command;
