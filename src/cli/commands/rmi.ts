// berth rmi: DELETE /images/{name}, the daemon's "Untagged:"/"Deleted:" lines printed for each.

import type { Command } from "./command.ts";
import { bool } from "./command.ts";
import { forEach } from "./each.ts";

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
  ],
  args: { min: 1 },
  async run(io, p) {
    const query = { force: bool(p, "force") || undefined, noprune: bool(p, "no-prune") || undefined };
    await forEach(
      p.args,
      io.err,
      async (name) => {
        const items = await io.client().json<DeleteItem[]>("DELETE", `/images/${encodeURIComponent(name)}`, { query });
        const lines = deleteLines(items);
        return lines.length > 0 ? lines.join("\n") : undefined;
      },
      io.out,
    );
  },
};
export default command;
