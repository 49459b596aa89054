// berth-runc: the OCI runtime command line (runc-compatible). Global flags, then a command.
import { BerthError, errorMessage } from "../common/errors.ts";
import { bool, parseFlags, str, usageText } from "../common/flags.ts";
import { traceFields } from "../common/log.ts";
import { traceFromEnv } from "../rpc/trace.ts";
import type { Command, CommandContext } from "./cli/context.ts";
import { Logger } from "./cli/log.ts";
import { create } from "./commands/create.ts";
import { del } from "./commands/delete.ts";
import { events } from "./commands/events.ts";
import { exec } from "./commands/exec.ts";
import { features } from "./commands/features.ts";
import { kill } from "./commands/kill.ts";
import { list } from "./commands/list.ts";
import { pause, resume } from "./commands/pause.ts";
import { ps } from "./commands/ps.ts";
import { run } from "./commands/run.ts";
import { spec } from "./commands/spec.ts";
import { start } from "./commands/start.ts";
import { state } from "./commands/state.ts";
import { update } from "./commands/update.ts";
import { StateStore } from "./container/state-store.ts";

export const VERSION = "0.1.0";
const COMMANDS: readonly Command[] = [
  create,
  start,
  run,
  state,
  kill,
  del,
  list,
  ps,
  exec,
  pause,
  resume,
  events,
  update,
  spec,
  features,
];

const globalFlags = {
  root: { kind: "string", usage: "root directory for container state (default: /run/berth-runc)" },
  log: { kind: "string", usage: "log file (default: stderr)" },
  "log-format": { kind: "string", usage: "log format: text or json" },
  debug: { kind: "bool", usage: "enable debug logging" },
  "systemd-cgroup": { kind: "bool", usage: "use systemd for cgroups (not supported)" },
  rootless: { kind: "string", usage: "rootless mode: true, false or auto (only false is supported)" },
  criu: { kind: "string", usage: "path to criu (checkpoint/restore is not supported)" },
  version: { kind: "bool", aliases: ["v"], usage: "print the version" },
  help: { kind: "bool", aliases: ["h"], usage: "show help" },
} as const;

function help(): string {
  const cmds = COMMANDS.map((c) => `   ${c.name.padEnd(10)} ${c.summary}`).join("\n");
  return `berth-runc: an OCI runtime (runc-compatible command line)\n\nUSAGE:\n   berth-runc [global options] command [arguments...]\n\nCOMMANDS:\n${cmds}\n\nGLOBAL OPTIONS:\n${usageText(globalFlags)}\n`;
}

async function main(argv: string[]): Promise<number> {
  // A shim (or anything else) that runs us for a traced call says so in TRACEPARENT.
  const trace = traceFromEnv();
  let log = new Logger(undefined, "text", false, traceFields(trace));
  try {
    const g = parseFlags(argv, globalFlags);
    const format = str(g, "log-format") ?? "text";
    log = new Logger(str(g, "log"), format === "json" ? "json" : "text", bool(g, "debug"), traceFields(trace));
    if (bool(g, "version")) {
      process.stdout.write(`berth-runc version ${VERSION}\nspec: 1.2.0\n`);
      return 0;
    }
    const [name, ...rest] = g.positionals;
    if (!name || bool(g, "help") || name === "help") {
      process.stdout.write(help());
      return name || bool(g, "help") ? 0 : 1;
    }
    const cmd = COMMANDS.find((c) => c.name === name);
    if (!cmd) {
      log.error(`No help topic for '${name}'`);
      return 1;
    }
    if (rest.includes("--help") || rest.includes("-h")) {
      process.stdout.write(`berth-runc ${cmd.usage}\n`);
      return 0;
    }
    const ctx: CommandContext = {
      store: new StateStore(str(g, "root") ?? "/run/berth-runc"),
      log,
      systemdCgroup: bool(g, "systemd-cgroup"),
      debug: bool(g, "debug"),
      trace,
    };
    return await cmd.run(ctx, rest);
  } catch (err) {
    log.error(err instanceof BerthError ? err.message : `internal error: ${errorMessage(err)}`);
    if (!(err instanceof BerthError) && err instanceof Error && err.stack) log.debug(err.stack);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
