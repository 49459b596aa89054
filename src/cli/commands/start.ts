// berth start: POST /containers/{id}/start for each name (attaching, -a/-i, comes with attach).
import { CliError, DaemonError } from "../errors.ts";
import type { Command } from "./command.ts";

const command: Command = {
  usage: "start [OPTIONS] CONTAINER [CONTAINER...]",
  summary: "Start one or more stopped containers",
  aliases: "berth container start, berth start",
  flags: [],
  args: { min: 1 },
  async run(io, p) {
    const failed: string[] = [];
    for (const name of p.args) {
      try {
        await io.client().request("POST", `/containers/${encodeURIComponent(name)}/start`);
        io.out.write(`${name}\n`);
      } catch (e) {
        if (!(e instanceof DaemonError)) throw e;
        io.err.write(`${e.message}\n`);
        failed.push(name);
      }
    }
    // docker's closing line once every name was tried.
    if (failed.length > 0) throw new CliError(`Error: failed to start containers: ${failed.join(", ")}`);
  },
};
export default command;
