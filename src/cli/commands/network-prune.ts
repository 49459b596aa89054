// berth network prune: POST /networks/prune; docker reports the networks it removed, no space.
import { bool, type Command, list } from "./command.ts";
import { filtersOf } from "./output.ts";
import { confirm, namesIn, pruneSection } from "./prune.ts";

const command: Command = {
  usage: "network prune [OPTIONS]",
  summary: "Remove all unused networks",
  args: { max: 0 },
  flags: [
    { long: "filter", kind: "strings", type: "filter", help: 'Provide filter values (e.g. "until=<timestamp>")' },
    { long: "force", short: "f", kind: "bool", help: "Do not prompt for confirmation" },
  ],
  async run(io, p) {
    const filters = filtersOf(list(p, "filter"), io.name);
    const warning = "WARNING! This will remove all custom networks not used by at least one container.";
    if (!bool(p, "force") && !(await confirm(io, warning))) return;
    const { text } = await pruneSection(io, "/networks/prune", { filters }, "Deleted Networks:", (r) =>
      namesIn(r, "NetworksDeleted"),
    );
    io.out.write(text);
  },
};
export default command;
