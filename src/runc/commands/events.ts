import { bool, parseFlags, str, UsageError } from "../../common/flags.ts";
import { runcStatsData, stringifyExact } from "../cgroups/stats.ts";
import type { Command } from "../cli/context.ts";
import { cgroupsOf } from "../container/cgroups.ts";
import { statusOf } from "../container/lifecycle.ts";
import { sleep } from "../container/proc.ts";
import { idArg } from "./create.ts";

/** Go duration syntax as runc's --interval takes it: "5s", "100ms", "1m30s". */
export function parseDuration(text: string): number {
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * unit[m[2]!]!;
    consumed = re.lastIndex;
  }
  if (consumed !== text.length || text === "") throw new UsageError(`invalid duration "${text}"`);
  return total;
}

export const events: Command = {
  name: "events",
  summary: "display container events: resource usage statistics, OOM notices",
  usage: "events [--stats] [--interval 5s] <container-id>",
  async run(ctx, argv) {
    const p = parseFlags(argv, {
      stats: { kind: "bool", usage: "display the container's stats once, then exit" },
      interval: { kind: "string", usage: "stats collection interval (default 5s)" },
    });
    const id = idArg(p.positionals, "events");
    const rec = ctx.store.load(id);
    const cg = cgroupsOf(rec);
    const emit = (type: string, data: unknown) => process.stdout.write(`${stringifyExact({ type, id, data })}\n`);
    if (bool(p, "stats")) {
      emit("stats", runcStatsData(cg.stats()));
      return 0;
    }
    const interval = parseDuration(str(p, "interval") ?? "5s");
    let ooms = cg.oomKillCount?.() ?? 0;
    while (statusOf(ctx.store, rec) !== "stopped") {
      emit("stats", runcStatsData(cg.stats()));
      const now = cg.oomKillCount?.() ?? 0;
      if (now > ooms) emit("oom", null);
      ooms = now;
      await sleep(interval);
    }
    return 0;
  },
};
