// berth volume prune: POST /volumes/prune (anonymous volumes, or every unused one with -a).
import { bool, type Command, list } from "./command.ts";
import { filtersOf } from "./output.ts";
import { confirm, namesIn, prune } from "./prune.ts";

const command: Command = {
  usage: "volume prune [OPTIONS]",
  summary: "Remove unused local volumes",
  args: { max: 0 },
  flags: [
    {
      long: "all",
      short: "a",
      kind: "bool",
      help: "Remove all unused volumes, not just anonymous ones",
      minApi: "1.42",
    },
    { long: "filter", kind: "strings", type: "filter", help: 'Provide filter values (e.g. "label=<label>")' },
    { long: "force", short: "f", kind: "bool", help: "Do not prompt for confirmation" },
  ],
  async run(io, p) {
    const all = bool(p, "all");
    const warning = all
      ? "WARNING! This will remove all local volumes not used by at least one container."
      : "WARNING! This will remove anonymous local volumes not used by at least one container.";
    const filter = list(p, "filter");
    const filters = filtersOf(all ? [...filter, "all=true"] : filter, io.name);
    if (!bool(p, "force") && !(await confirm(io, warning))) return;
    await prune(io, "volumes", { filters }, "Deleted Volumes:", (r) => namesIn(r, "VolumesDeleted"));
  },
};
export default command;
