// berth diff: GET /containers/{id}/changes as docker prints them ("C /etc", "A /x", "D /y").
import type { Command } from "./command.ts";

const KINDS = ["C", "A", "D"];

const command: Command = {
  usage: "diff CONTAINER",
  summary: "Inspect changes to files or directories on a container's filesystem",
  aliases: "berth container diff, berth diff",
  flags: [],
  args: { min: 1, max: 1 },
  async run(io, p) {
    const changes = await io
      .client()
      .json<{ Kind: number; Path: string }[]>("GET", `/containers/${encodeURIComponent(p.args[0] as string)}/changes`);
    for (const c of changes ?? []) io.out.write(`${KINDS[c.Kind] ?? "?"} ${c.Path}\n`);
  },
};
export default command;
