// berth images: GET /images/json, a row per repository and tag as docker lists them; the rows
// and the table are the format helper's (format/images-context.ts).
import { decodeAs, IMAGE_LIST } from "../api/decode.ts";
import { CliError } from "../errors.ts";
import { type ImageSummary, imageRows, imagesTable, needDigest } from "../format/images-context.ts";
import { bool, type Command, list, str } from "./command.ts";
import { formatOf } from "./config-format.ts";
import { filtersOf, printList } from "./output.ts";

const command: Command = {
  usage: "images [OPTIONS] [REPOSITORY[:TAG]]",
  summary: "List images",
  aliases: "berth image ls, berth image list, berth images",
  args: { max: 1 },
  flags: [
    { long: "all", short: "a", kind: "bool", help: "Show all images (default hides intermediate images)" },
    { long: "digests", kind: "bool", help: "Show digests" },
    { long: "filter", short: "f", kind: "strings", type: "filter", help: "Filter output based on conditions provided" },
    { long: "format", kind: "string", help: "Format output using a custom template" },
    { long: "no-trunc", kind: "bool", help: "Don't truncate output" },
    { long: "quiet", short: "q", kind: "bool", help: "Only show image IDs" },
    { long: "tree", kind: "bool", help: "List multi-platform images as a tree (EXPERIMENTAL)", minApi: "1.47" },
  ],
  async run(io, p) {
    const filter = list(p, "filter");
    if (p.args[0] !== undefined) filter.push(`reference=${p.args[0]}`);
    if (bool(p, "tree")) {
      // docker 28's refusals, in its order.
      const unsupported = (["quiet", "no-trunc", "digests", "format"] as const).find((f) =>
        f === "format" ? (str(p, "format") ?? "") !== "" : bool(p, f),
      );
      if (unsupported !== undefined) {
        const name = unsupported === "digests" ? "show-digest" : unsupported;
        throw new CliError(`--${name} is not yet supported with --tree`);
      }
      const answer = await io.client().json<unknown>("GET", "/images/json", {
        query: { all: bool(p, "all") || undefined, filters: filtersOf(filter, io.name), manifests: true },
      });
      const { renderTree, treeImages } = await import("./images-tree.ts");
      const columns = io.out.isTTY ? (io.out as { columns?: number }).columns : undefined;
      io.out.write(renderTree(treeImages(answer, bool(p, "all")), columns ?? 80));
      return;
    }
    const answer = await io.client().json<unknown>("GET", "/images/json", {
      query: { all: bool(p, "all") || undefined, filters: filtersOf(filter, io.name) },
    });
    // Checked once here: the rows assume the types docker's decoder would have enforced.
    const images = decodeAs<ImageSummary[] | null>(answer, IMAGE_LIST);
    const format = formatOf(io, p, "imagesFormat", bool(p, "quiet"));
    const digests = needDigest(format, bool(p, "digests"));
    const now = Date.now();
    const rows = (images ?? []).flatMap((i) => imageRows(i, { trunc: !bool(p, "no-trunc"), digests, now }));
    if (bool(p, "quiet") && format === undefined) {
      // docker's quiet list shows each image once.
      for (const id of new Set(rows.map((r) => r.ID))) io.out.write(`${id}\n`);
      return;
    }
    printList(io, format, rows, imagesTable({ digests: bool(p, "digests") }));
  },
};
export default command;
