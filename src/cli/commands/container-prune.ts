// berth container prune: POST /containers/prune, after docker's question unless -f.
import { bool, type Command, list } from "./command.ts";
import { filtersOf } from "./output.ts";
import { confirm, prune } from "./prune.ts";

const command: Command = {
  usage: "container prune [OPTIONS]",
  summary: "Remove all stopped containers",
  args: { max: 0 },
  flags: [
    { long: "filter", kind: "strings", type: "filter", help: 'Provide filter values (e.g. "until=<timestamp>")' },
    { long: "force", short: "f", kind: "bool", help: "Do not prompt for confirmation" },
  ],
  async run(io, p) {
    if (!bool(p, "force") && !(await confirm(io, "WARNING! This will remove all stopped containers."))) return;
    await prune(io, "containers", { filters: filtersOf(list(p, "filter"), io.name) }, "Deleted Containers:", (r) =>
      Array.isArray(r.ContainersDeleted) ? (r.ContainersDeleted as string[]) : [],
    );
  },
};
export default command;
