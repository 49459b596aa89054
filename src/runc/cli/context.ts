// What every command receives: global flags, the state store, the log, and the trace it runs in.
import type { TraceContext } from "../../rpc/trace.ts";
import type { StateStore } from "../container/state-store.ts";
import type { Logger } from "./log.ts";

export interface CommandContext {
  store: StateStore;
  log: Logger;
  systemdCgroup: boolean;
  debug: boolean;
  /** The caller's trace (a valid TRACEPARENT in the environment), with this run as its span. */
  trace?: TraceContext | undefined;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(ctx: CommandContext, argv: string[]): Promise<number>;
}
