// berth rename: POST /containers/{id}/rename?name=NEW.
import { CliError, DaemonError, UsageError } from "../errors.ts";
import type { Command } from "./command.ts";

const command: Command = {
  usage: "rename CONTAINER NEW_NAME",
  summary: "Rename a container",
  aliases: "berth container rename, berth rename",
  flags: [],
  args: { min: 2, max: 2 },
  async run(io, p) {
    const [old, name] = p.args as [string, string];
    const newName = name.trim();
    if (old.trim() === "" || newName === "") throw new UsageError("Error: neither old nor new names may be empty", 1);
    try {
      await io.client().request("POST", `/containers/${encodeURIComponent(old)}/rename`, { query: { name: newName } });
    } catch (e) {
      if (!(e instanceof DaemonError)) throw e;
      // docker prints the daemon's answer, then its own line.
      io.err.write(`${e.message}\n`);
      throw new CliError(`Error: failed to rename container named ${old}`);
    }
  },
};
export default command;
