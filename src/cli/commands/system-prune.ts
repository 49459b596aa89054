// berth system prune: docker's warning (what goes, the filters), then each prune in docker's
// order — containers, volumes (--volumes), networks, images, build cache — its report printed as
// it finishes; a daemon without one of the routes stops it there, as docker stops.
import { CliError } from "../errors.ts";
import { humanSize } from "../format/units.ts";
import { bool, type Command, list } from "./command.ts";
import { filtersOf } from "./output.ts";
import { confirm, namesIn, pruneSection } from "./prune.ts";
import { type DeleteItem, deleteLines } from "./rmi.ts";

/** docker 28's warning for these flags. */
export function systemPruneWarning(all: boolean, volumes: boolean, filters: readonly string[]): string {
  const lines = [
    "WARNING! This will remove:",
    "  - all stopped containers",
    "  - all networks not used by at least one container",
  ];
  if (volumes) lines.push("  - all anonymous volumes not used by at least one container");
  lines.push(all ? "  - all images without at least one container associated to them" : "  - all dangling images");
  lines.push(all ? "  - all build cache" : "  - unused build cache");
  let text = `${lines.join("\n")}\n`;
  if (filters.length > 0) {
    text += `\n  Items to be pruned will be filtered with:\n${[...filters]
      .sort()
      .map((f) => `  - ${f}\n`)
      .join("")}`;
  }
  return text;
}

const command: Command = {
  usage: "system prune [OPTIONS]",
  summary: "Remove unused data",
  args: { max: 0 },
  flags: [
    { long: "all", short: "a", kind: "bool", help: "Remove all unused images not just dangling ones" },
    { long: "filter", kind: "strings", type: "filter", help: 'Provide filter values (e.g. "label=<key>=<value>")' },
    { long: "force", short: "f", kind: "bool", help: "Do not prompt for confirmation" },
    { long: "volumes", kind: "bool", help: "Prune anonymous volumes" },
  ],
  async run(io, p) {
    const all = bool(p, "all");
    const volumes = bool(p, "volumes");
    const given = list(p, "filter");
    const filters = filtersOf(given, io.name);
    if (volumes && given.some((f) => f.trim().toLowerCase().startsWith("until=")))
      throw new CliError('ERROR: The "until" filter is not supported with "--volumes"');
    if (!bool(p, "force") && !(await confirm(io, systemPruneWarning(all, volumes, given)))) return;
    const imageFilters = filtersOf([...given, `dangling=${all ? "false" : "true"}`], io.name);
    const steps: [
      string,
      Record<string, string | boolean | undefined>,
      string,
      (r: Record<string, unknown>) => string[],
    ][] = [["/containers/prune", { filters }, "Deleted Containers:", (r) => namesIn(r, "ContainersDeleted")]];
    if (volumes) steps.push(["/volumes/prune", { filters }, "Deleted Volumes:", (r) => namesIn(r, "VolumesDeleted")]);
    steps.push(
      ["/networks/prune", { filters }, "Deleted Networks:", (r) => namesIn(r, "NetworksDeleted")],
      [
        "/images/prune",
        { filters: imageFilters },
        "Deleted Images:",
        (r) => deleteLines(Array.isArray(r.ImagesDeleted) ? (r.ImagesDeleted as DeleteItem[]) : [], true),
      ],
      [
        "/build/prune",
        { all: all || undefined, filters: filters ?? "" },
        "Deleted build cache objects:",
        (r) => namesIn(r, "CachesDeleted"),
      ],
    );
    let space = 0;
    for (const [path, query, heading, lines] of steps) {
      const section = await pruneSection(io, path, query, heading, lines);
      space += section.space;
      if (section.text) io.out.write(section.text);
    }
    io.out.write(`Total reclaimed space: ${humanSize(space)}\n`);
  },
};
export default command;
