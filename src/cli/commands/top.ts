// berth top CONTAINER [ps OPTIONS]: GET /containers/{id}/top, the daemon's table as docker lays it out.

import { tabwrite } from "../format/table.ts";
import type { Command } from "./command.ts";

const command: Command = {
  usage: "top CONTAINER [ps OPTIONS]",
  summary: "Display the running processes of a container",
  aliases: "berth container top, berth top",
  flags: [],
  interspersed: false,
  args: { min: 1 },
  async run(io, p) {
    const [name, ...psArgs] = p.args as [string, ...string[]];
    const r = await io
      .client()
      .json<{ Titles?: string[]; Processes?: string[][] }>("GET", `/containers/${encodeURIComponent(name)}/top`, {
        query: { ps_args: psArgs.length > 0 ? psArgs.join(" ") : undefined },
      });
    // docker top's tabwriter: min width 20.
    const lines = [r?.Titles ?? [], ...(r?.Processes ?? [])].map((cells) => `${cells.join("\t")}\n`);
    io.out.write(tabwrite(lines.join(""), 20));
  },
};
export default command;
