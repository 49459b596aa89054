// berth image prune: POST /images/prune (dangling images, or every unused one with -a).
import { bool, type Command, list } from "./command.ts";
import { filtersOf } from "./output.ts";
import { confirm, prune } from "./prune.ts";
import { type DeleteItem, deleteLines } from "./rmi.ts";

const command: Command = {
  usage: "image prune [OPTIONS]",
  summary: "Remove unused images",
  args: { max: 0 },
  flags: [
    { long: "all", short: "a", kind: "bool", help: "Remove all unused images, not just dangling ones" },
    { long: "filter", kind: "strings", type: "filter", help: 'Provide filter values (e.g. "until=<timestamp>")' },
    { long: "force", short: "f", kind: "bool", help: "Do not prompt for confirmation" },
  ],
  async run(io, p) {
    const all = bool(p, "all");
    const warning = all
      ? "WARNING! This will remove all images without at least one container associated to them."
      : "WARNING! This will remove all dangling images.";
    if (!bool(p, "force") && !(await confirm(io, warning))) return;
    const filter = list(p, "filter");
    filter.push(`dangling=${all ? "false" : "true"}`);
    await prune(io, "images", { filters: filtersOf(filter, io.name) }, "Deleted Images:", (r) =>
      deleteLines(r.ImagesDeleted as DeleteItem[] | undefined, true),
    );
  },
};
export default command;
