// Entry point of berth, the docker-compatible CLI: global flags (docker's: they come before the
// command), where the daemon is (context/), then the command, loaded only when it runs
// (commands/registry.ts). Every error ends here: printed once to stderr, docker's exit code.
import { homedir } from "node:os";
import { BERTH_VERSION } from "../common/version.ts";
import { EngineClient, parseHost } from "./api/client.ts";
import { pingHeaders, serverFacts } from "./api/ping.ts";
import type { Command, Io } from "./commands/command.ts";
import { COMMANDS, lookup, MANAGEMENT } from "./commands/registry.ts";
import { type Resolved, resolveContext } from "./context/resolve.ts";
import { CliError, CliExit, EXIT, reportOf, UsageError } from "./errors.ts";
import { gatedForHelp, isGated, type ServerFacts, unsupportedGiven } from "./flags/gate.ts";
import { parseFlags, renderHelp } from "./flags/parse.ts";
import { usageLine } from "./usage-line.ts";

/** -D/--debug (or BERTH_DEBUG in the environment): an error's stack is printed after its message. */
let debug = Boolean(process.env.BERTH_DEBUG);

interface Globals {
  host?: string;
  context?: string;
  config?: string;
  debug: boolean;
  help: boolean;
  version: boolean;
}

/** Docker's global flags, up to the first word that is not one (the command). */
export function parseGlobals(argv: readonly string[]): { globals: Globals; rest: string[] } {
  const g: Globals = { debug: false, help: false, version: false };
  let i = 0;
  const value = (flag: string, inline: string | undefined): string => {
    if (inline !== undefined) return inline;
    const v = argv[++i];
    if (v === undefined) throw new UsageError(`flag needs an argument: ${flag}\nSee 'berth --help'.`);
    return v;
  };
  for (; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === "--") {
      i++;
      break;
    }
    if (!a.startsWith("-") || a === "-") break;
    const eq = a.indexOf("=");
    const name = a.startsWith("--") && eq > 0 ? a.slice(0, eq) : a;
    const inline = a.startsWith("--") && eq > 0 ? a.slice(eq + 1) : undefined;
    switch (name) {
      case "-H":
      case "--host":
        g.host = value(name, inline);
        break;
      case "-c":
      case "--context":
        g.context = value(name, inline);
        break;
      case "--config":
        g.config = value(name, inline);
        break;
      case "-l":
      case "--log-level":
        value(name, inline);
        break;
      case "-D":
      case "--debug":
        g.debug = true;
        break;
      case "-h":
      case "--help":
        g.help = true;
        break;
      case "-v":
      case "--version":
        g.version = true;
        break;
      case "--tls":
      case "--tlsverify":
      case "--tlscacert":
      case "--tlscert":
      case "--tlskey":
        throw new CliError(`${name}: TLS is not supported by berth yet: use unix:// or tcp://`, EXIT.usage);
      default:
        throw new UsageError(
          `${a.startsWith("--") ? `unknown flag: ${name}` : `unknown shorthand flag: '${a[1]}' in ${a}`}\nSee 'berth --help'.`,
        );
    }
  }
  return { globals: g, rest: argv.slice(i) };
}

/** `berth --help`: the commands berth has, laid out as docker lays out its own. */
export function topHelp(): string {
  const pad = (s: string) => s.padEnd(11);
  const lines = [
    "",
    "Usage:  berth [OPTIONS] COMMAND",
    "",
    "A docker-compatible client of the Docker Engine API",
    "",
    "Management Commands:",
  ];
  for (const [name, m] of Object.entries(MANAGEMENT)) lines.push(`  ${pad(name)} ${m.summary}`);
  lines.push("", "Commands:");
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${pad(name)} ${c.summary}`);
  lines.push(
    "",
    "Global Options:",
    '      --config string      Location of client config files (default "~/.docker")',
    "  -c, --context string     Name of the context to use to connect to the daemon",
    "  -D, --debug              Enable debug mode",
    "  -H, --host string        Daemon socket to connect to (default: BERTH_HOST, DOCKER_HOST, unix:///run/berth/berth.sock)",
    "  -l, --log-level string   Set the logging level (accepted, unused)",
    "  -v, --version            Print version information and quit",
    "",
    "Run 'berth COMMAND --help' for more information on a command.",
    "",
  );
  return lines.join("\n");
}

/** Docker's argument-count checks, in its words (exit 1). */
function checkArgs(cmd: Command, name: string, args: readonly string[]): void {
  const { min, max, range } = cmd.args ?? {};
  let problem: string | undefined;
  if (min !== undefined && max !== undefined && min === max && args.length !== min) {
    problem = `requires ${min === 1 ? "1 argument" : `${min} arguments`}`;
  } else if (range && min !== undefined && max !== undefined && (args.length < min || args.length > max)) {
    problem = `requires at least ${min} and at most ${max} argument${max === 1 ? "" : "s"}`;
  } else if (min !== undefined && args.length < min)
    problem = `requires at least ${min} argument${min === 1 ? "" : "s"}`;
  else if (max !== undefined && args.length > max) {
    problem = max === 0 ? "accepts no arguments" : `requires at most ${max} argument${max === 1 ? "" : "s"}`;
  }
  if (problem) {
    // cobra's RequiresMinArgs says "See", the exact and maximum checks "Run".
    const verb = problem.startsWith("requires at least") && !problem.includes("at most") ? "See" : "Run";
    throw new UsageError(
      `berth: 'berth ${name}' ${problem}\n\nUsage:  berth ${cmd.usage}\n\n${verb} 'berth ${name} --help' for more information`,
      EXIT.failure,
    );
  }
}

/** The daemon's facts for --help; where it is cannot be worked out, or it does not answer: none, as docker. */
async function helpFacts(globals: Globals, env: NodeJS.ProcessEnv): Promise<ServerFacts> {
  let headers: Awaited<ReturnType<typeof pingHeaders>>;
  try {
    const context = resolveContext({ ...globals, env, home: env.HOME || homedir() });
    headers = await pingHeaders(parseHost(context.host));
  } catch {
    headers = undefined;
  }
  return serverFacts(headers, env.DOCKER_API_VERSION);
}

export async function main(argv: readonly string[], env = process.env): Promise<number> {
  const { globals, rest: given } = parseGlobals(argv);
  debug ||= globals.debug;
  if (globals.version) {
    process.stdout.write(`berth version ${BERTH_VERSION}\n`);
    return 0;
  }
  // `berth --help ps` is `berth ps --help`, as docker reads it (an unknown word: the top help).
  const rest = globals.help && given.length > 0 ? [...given, "--help"] : given;
  if (rest.length === 0 || rest[0] === "help" || (globals.help && !lookup(given) && !MANAGEMENT[given[0] as string])) {
    process.stdout.write(topHelp());
    return 0;
  }
  const found = lookup(rest);
  if (!found) {
    const group = MANAGEMENT[rest[0] as string];
    if (group) {
      if (rest[1] === undefined || rest[1] === "--help" || rest[1] === "-h") {
        const subs = Object.keys(group.sub).join(", ");
        process.stdout.write(`\nUsage:  berth ${rest[0]} COMMAND\n\n${group.summary}\n\nCommands: ${subs}\n`);
        return 0;
      }
      throw new UsageError(
        `berth: unknown command: berth ${rest[0]} ${rest[1]}\n\nRun 'berth ${rest[0]} --help' for more information`,
        EXIT.failure,
      );
    }
    throw new UsageError(
      `berth: unknown command: berth ${rest[0]}\n\nRun 'berth --help' for more information`,
      EXIT.failure,
    );
  }
  const cmd = (await found.load()).default;
  const parsed = parseFlags(rest.slice(found.used), cmd.flags, {
    interspersed: cmd.interspersed ?? true,
    command: found.name,
  });
  if (parsed.flags.get("help") === true) {
    // Flags the daemon does not support are hidden, as docker's --help hides them (flags/gate.ts).
    const flags = cmd.flags.some(isGated) ? gatedForHelp(cmd.flags, await helpFacts(globals, env)) : cmd.flags;
    process.stdout.write(
      // Usage names the command as it was called ("container ls [OPTIONS]"), as docker's does.
      `\n${renderHelp(`berth ${usageLine(found.name, cmd.usage)}`, cmd.summary, flags, cmd.aliases ? { aliases: cmd.aliases } : {})}`,
    );
    return 0;
  }
  checkArgs(cmd, found.name, parsed.args);
  const context: Resolved = resolveContext({ ...globals, env, home: env.HOME || homedir() });
  let client: EngineClient | undefined;
  const theClient = () =>
    (client ??= new EngineClient({
      host: context.host,
      ...(env.DOCKER_API_VERSION ? { apiVersion: env.DOCKER_API_VERSION } : {}),
    }));
  // A gated flag given is checked against the daemon before the command runs, as docker does; the
  // client then speaks the version that ping negotiated instead of pinging again.
  if (cmd.flags.some((d) => isGated(d) && parsed.set.has(d.long))) {
    const headers = await pingHeaders(parseHost(context.host));
    const refused = unsupportedGiven(cmd.flags, parsed.set, serverFacts(headers, env.DOCKER_API_VERSION));
    if (refused !== undefined) throw new CliError(refused, EXIT.failure);
    // Only an answer that names a version is taken; otherwise the client asks as it always does.
    if (headers?.["api-version"] !== undefined) theClient().adoptPing(headers);
  }
  for (const w of context.warnings) process.stderr.write(`${w}\n`);
  const io: Io = {
    client: theClient,
    out: process.stdout,
    err: process.stderr,
    name: found.name,
    debug,
    context,
  };
  await cmd.run(io, parsed);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const { message, code } = reportOf(err);
    if (message !== undefined) process.stderr.write(`${message}\n`);
    // Debug mode shows where an error came from (docker's -D logs more; berth has no log to add to).
    if (debug && err instanceof Error && !(err instanceof CliExit)) process.stderr.write(`${err.stack}\n`);
    process.exitCode = code;
  },
);
