// One CLI command run in-process against a daemon at `host` (a fake one, in the CLI's unit
// tests): its flags parsed as main.ts parses them, its output collected. Resolves with what it
// wrote to stdout and stderr together; rejects with what it threw.
import { Writable } from "node:stream";
import { EngineClient } from "../../src/cli/api/client.ts";
import type { Command, Io } from "../../src/cli/commands/command.ts";
import { parseFlags } from "../../src/cli/flags/parse.ts";

export async function runCliCommand(
  command: Command,
  opts: { host: string; name: string; argv: string[]; config?: Record<string, unknown> },
): Promise<string> {
  let out = "";
  const sink = new Writable({
    write: (c, _e, cb) => {
      out += c.toString();
      cb();
    },
  });
  const client = new EngineClient({ host: opts.host });
  const io: Io = {
    client: () => client,
    out: sink,
    err: sink,
    name: opts.name,
    context: { host: opts.host, context: "default", configDir: "", config: opts.config ?? {}, warnings: [] },
  };
  const interspersed = command.interspersed ?? true;
  await command.run(io, parseFlags(opts.argv, command.flags, { interspersed, command: opts.name }));
  return out;
}
