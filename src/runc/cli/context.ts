// What every command receives: global flags, the state store, and the log.
import type { StateStore } from "../container/state-store.ts";
import type { Logger } from "./log.ts";

export interface CommandContext {
  store: StateStore;
  log: Logger;
  systemdCgroup: boolean;
  debug: boolean;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(ctx: CommandContext, argv: string[]): Promise<number>;
}
