// What a command is: its usage line, summary, flags, argument count and the code that runs it.
// main.ts parses the flags and checks the arguments before run() is called, so a command that
// gets bad input sends nothing to the daemon.
import type { EngineClient } from "../api/client.ts";
import type { Resolved } from "../context/resolve.ts";
import type { FlagDef, Parsed } from "../flags/parse.ts";

export interface Io {
  /** The client, made on first use (a command that fails on its flags never connects). */
  client(): EngineClient;
  out: NodeJS.WritableStream & { isTTY?: boolean };
  err: NodeJS.WritableStream;
  /** The words after "berth" that named the command ("ps", "container ls"). */
  name: string;
  context: Resolved;
  /** -D/--debug was given (info's client Debug Mode). */
  debug?: boolean;
}

export interface Command {
  /** After "berth ": "ps [OPTIONS]". */
  usage: string;
  summary: string;
  flags: FlagDef[];
  /** false: flags stop at the first argument (logs, top pass the rest on). Default true. */
  interspersed?: boolean;
  /** Docker's argument checks: "requires at least 1 argument", "requires exactly 2 arguments". */
  args?: { min?: number; max?: number; range?: boolean /* cobra's RangeArgs words: "at least 1 and at most 2" */ };
  /** Management spellings that reach it, for --help ("docker container ls, docker ps"). */
  aliases?: string;
  run(io: Io, parsed: Parsed): Promise<void>;
}

/** A flag's value as the kind it was declared (parseFlags fills defaults). */
export function str(p: Parsed, name: string): string | undefined {
  const v = p.flags.get(name);
  return typeof v === "string" ? v : undefined;
}
export function bool(p: Parsed, name: string): boolean {
  return p.flags.get(name) === true;
}
export function int(p: Parsed, name: string): number | undefined {
  const v = p.flags.get(name);
  return typeof v === "number" ? v : undefined;
}
export function list(p: Parsed, name: string): string[] {
  const v = p.flags.get(name);
  return Array.isArray(v) ? v : [];
}
