import { execChecked } from "../../common/exec.ts";
import { parseFlags, str, UsageError } from "../../common/flags.ts";
import type { Command } from "../cli/context.ts";
import { containerPids } from "../container/lifecycle.ts";
import { idArg } from "./create.ts";

export const ps: Command = {
  name: "ps",
  summary: "list the processes of a container",
  usage: "ps [--format table|json] <container-id> [ps options]",
  async run(ctx, argv) {
    const p = parseFlags(argv, { format: { kind: "string", aliases: ["f"], usage: "table or json" } });
    const id = idArg(p.positionals, "ps");
    const pids = containerPids(ctx.store, id);
    const format = str(p, "format") ?? "table";
    if (format === "json") {
      process.stdout.write(`${JSON.stringify(pids)}\n`);
      return 0;
    }
    if (format !== "table") throw new UsageError(`invalid format option "${format}"`);
    // As runc: run ps(1) with the given options and keep the header and the container's rows.
    const psArgs = p.positionals.length > 1 ? p.positionals.slice(1) : ["-ef"];
    const out = (await execChecked("ps", psArgs)).stdout.toString().split("\n");
    const header = out[0] ?? "";
    const col = header.trim().split(/\s+/).indexOf("PID");
    if (col < 0) throw new UsageError("couldn't find PID field in ps output");
    const wanted = new Set(pids.map(String));
    const lines = [header, ...out.slice(1).filter((l) => wanted.has(l.trim().split(/\s+/)[col] ?? ""))];
    process.stdout.write(`${lines.join("\n")}\n`);
    return 0;
  },
};
