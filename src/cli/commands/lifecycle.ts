// The commands that do one call per container and print the name they were given (stop, start,
// restart, kill, pause, unpause, rm): one place for docker's way of reporting them.
import type { Query } from "../api/client.ts";
import type { FlagDef, Parsed } from "../flags/parse.ts";
import type { Command, Io } from "./command.ts";
import { forEach } from "./each.ts";

/** stop's and restart's flags: the signal, and how long to wait before SIGKILL (docker 28 names it
 * --timeout; 20.10's --time still works, hidden, as in docker 28). */
export const STOP_FLAGS: FlagDef[] = [
  { long: "signal", short: "s", kind: "string", help: "Signal to send to the container" },
  { long: "timeout", short: "t", kind: "int", help: "Seconds to wait before killing the container" },
  { long: "time", kind: "int", hidden: true, into: "timeout", help: "Seconds to wait before killing the container" },
];

/** The query of stop and restart: ?signal=&t= (t only when given: the container's own default otherwise). */
export function stopQuery(p: Parsed): Query {
  const t = p.flags.get("timeout");
  return {
    signal: (p.flags.get("signal") as string | undefined) || undefined,
    t: p.set.has("timeout") && typeof t === "number" ? t : undefined,
  };
}

export interface PerContainer {
  usage: string;
  summary: string;
  aliases?: string;
  flags: FlagDef[];
  method: "POST" | "DELETE";
  /** The path after /containers/{id} ("/stop"; "" for DELETE /containers/{id}). */
  action: string;
  query: (p: Parsed) => Query;
}

export function perContainer(spec: PerContainer): Command {
  return {
    usage: spec.usage,
    summary: spec.summary,
    ...(spec.aliases ? { aliases: spec.aliases } : {}),
    flags: spec.flags,
    args: { min: 1 },
    async run(io: Io, p: Parsed) {
      const query = spec.query(p);
      await forEach(
        p.args,
        io.err,
        async (name) => {
          await io.client().request(spec.method, `/containers/${encodeURIComponent(name)}${spec.action}`, { query });
          return name;
        },
        io.out,
      );
    },
  };
}
