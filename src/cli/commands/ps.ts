// berth ps: the containers as docker lists them (GET /containers/json); the rows and the table
// are the format helper's (format/ps-context.ts).
import { CONTAINER_LIST, decodeAs } from "../api/decode.ts";
import { type ContainerSummary, psRow, psSizeNeeded, psTable } from "../format/ps-context.ts";
import { bool, type Command, int, list, str } from "./command.ts";
import { formatOf } from "./config-format.ts";
import { filtersOf, printList } from "./output.ts";

/** docker 28's warning when -q and --format are both given (-q wins). */
const IGNORED_FORMAT = "WARNING: Ignoring custom format, because both --format and --quiet are set.";

const command: Command = {
  usage: "ps [OPTIONS]",
  summary: "List containers",
  aliases: "berth container ls, berth container list, berth container ps, berth ps",
  args: { max: 0 },
  flags: [
    { long: "all", short: "a", kind: "bool", help: "Show all containers (default shows just running)" },
    { long: "filter", short: "f", kind: "strings", type: "filter", help: "Filter output based on conditions provided" },
    { long: "format", kind: "string", help: "Format output using a custom template" },
    {
      long: "last",
      short: "n",
      kind: "int",
      default: -1,
      help: "Show n last created containers (includes all states)",
    },
    { long: "latest", short: "l", kind: "bool", help: "Show the latest created container (includes all states)" },
    { long: "no-trunc", kind: "bool", help: "Don't truncate output" },
    { long: "quiet", short: "q", kind: "bool", help: "Only display container IDs" },
    { long: "size", short: "s", kind: "bool", help: "Display total file sizes" },
  ],
  async run(io, p) {
    const last = int(p, "last") ?? -1;
    const limit = bool(p, "latest") ? 1 : last;
    // -q lists ids whatever the format, as docker 28 does (20.10 printed a --format given with it).
    const quiet = bool(p, "quiet");
    if (quiet && str(p, "format")) io.err.write(`${IGNORED_FORMAT}\n`);
    const format = quiet ? undefined : formatOf(io, p, "psFormat");
    // Checked (and its errors raised) before anything is sent, as docker does.
    const size = bool(p, "size") || (!quiet && psSizeNeeded(format));
    const filters = filtersOf(list(p, "filter"), io.name);
    const answer = await io.client().json<unknown>("GET", "/containers/json", {
      query: {
        all: bool(p, "all") || limit > 0 ? true : undefined,
        limit: limit > 0 ? limit : undefined,
        size: size || undefined,
        filters,
      },
    });
    // Checked once here: the rows assume the types docker's decoder would have enforced.
    const containers = decodeAs<ContainerSummary[] | null>(answer, CONTAINER_LIST);
    const now = Date.now();
    const rows = (containers ?? []).map((c) => psRow(c, { trunc: !bool(p, "no-trunc"), now }));
    if (quiet) {
      for (const r of rows) io.out.write(`${r.ID}\n`);
      return;
    }
    printList(io, format, rows, psTable({ size: bool(p, "size") }));
  },
};
export default command;
