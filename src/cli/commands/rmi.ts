// berth rmi: DELETE /images/{name}, the daemon's "Untagged:"/"Deleted:" lines printed for each.

import { queryString } from "../api/client.ts";
import type { Command } from "./command.ts";
import { bool, list } from "./command.ts";
import { forEach } from "./each.ts";
import { platformsQuery } from "./platform-list.ts";

export type DeleteItem = { Untagged?: string; Deleted?: string };

export function deleteLines(items: readonly DeleteItem[] | undefined, lower = false): string[] {
  return (items ?? []).map((d) =>
    d.Untagged !== undefined
      ? `${lower ? "untagged" : "Untagged"}: ${d.Untagged}`
      : `${lower ? "deleted" : "Deleted"}: ${d.Deleted ?? ""}`,
  );
}

const command: Command = {
  usage: "rmi [OPTIONS] IMAGE [IMAGE...]",
  summary: "Remove one or more images",
  aliases: "berth image rm, berth image remove, berth rmi",
  flags: [
    { long: "force", short: "f", kind: "bool", help: "Force removal of the image" },
    { long: "no-prune", kind: "bool", help: "Do not delete untagged parents" },
    {
      long: "platform",
      kind: "strings",
      type: "strings",
      help: 'Remove only the given platform variant. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")',
      minApi: "1.50",
    },
  ],
  args: { min: 1 },
  async run(io, p) {
    const query = { force: bool(p, "force") || undefined, noprune: bool(p, "no-prune") || undefined };
    // Checked before any image is removed; `platforms` repeats, which Query cannot say: written here.
    const platforms = platformsQuery(list(p, "platform"))
      .map((j) => `platforms=${encodeURIComponent(j)}`)
      .join("&");
    await forEach(
      p.args,
      io.err,
      async (name) => {
        const base = `/images/${encodeURIComponent(name)}`;
        const items =
          platforms === ""
            ? await io.client().json<DeleteItem[]>("DELETE", base, { query })
            : await io
                .client()
                .json<DeleteItem[]>("DELETE", `${base}${queryString(query) || "?"}&${platforms}`.replace("?&", "?"));
        const lines = deleteLines(items);
        return lines.length > 0 ? lines.join("\n") : undefined;
      },
      io.out,
    );
  },
};
export default command;
