// berth wait: POST /containers/{id}/wait, each container's exit code printed once it stops.
import type { Command } from "./command.ts";
import { forEach } from "./each.ts";

const command: Command = {
  usage: "wait CONTAINER [CONTAINER...]",
  summary: "Block until one or more containers stop, then print their exit codes",
  aliases: "berth container wait, berth wait",
  flags: [],
  args: { min: 1 },
  async run(io, p) {
    await forEach(
      p.args,
      io.err,
      async (name) => {
        const r = await io
          .client()
          .json<{ StatusCode?: number }>("POST", `/containers/${encodeURIComponent(name)}/wait`);
        return String(r?.StatusCode ?? 0);
      },
      io.out,
    );
  },
};
export default command;
