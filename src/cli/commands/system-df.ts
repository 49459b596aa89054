// berth system df: GET /system/df summed up as docker's table (TYPE TOTAL ACTIVE SIZE RECLAIMABLE);
// with -v each image, container, volume and build cache record (system-df-verbose.ts).

import { BOOL, CONTAINER_LIST, decodeAs, IMAGE_LIST, INT64, mapOf, STRING, sliceOf, struct } from "../api/decode.ts";
import { compileTemplate, TemplateError } from "../format/template.ts";
import { humanSize } from "../format/units.ts";
import { bool, type Command, type Io, str } from "./command.ts";
import { printList } from "./output.ts";
import {
  buildCacheSize,
  type DiskUsage,
  SUMMARY_RAW,
  VERBOSE_RAW,
  verboseDiskUsage,
  verboseTables,
} from "./system-df-verbose.ts";

const size4 = (n: number) => humanSize(n, 4);
/** "1.2MB (50%)" when there is a total, else the size alone (docker's rule). */
function reclaim(reclaimable: number, total: number): string {
  return total > 0 ? `${size4(reclaimable)} (${Math.floor((reclaimable * 100) / total)}%)` : size4(reclaimable);
}

/** A list's entries without its nulls (docker's nil pointers, which it would not survive). */
const present = <T>(list: readonly (T | null)[] | null | undefined): T[] =>
  (list ?? []).filter((e): e is T => e !== null);

export function dfRows(df: DiskUsage) {
  const images = present(df.Images);
  const imagesTotal = df.LayersSize ?? 0;
  let used = 0;
  for (const i of images) {
    if ((i.Containers ?? 0) === 0 || i.Size === -1 || i.SharedSize === -1) continue;
    used += (i.Size ?? 0) - (i.SharedSize ?? 0);
  }
  const containers = present(df.Containers);
  const cTotal = containers.reduce((a, c) => a + (c.SizeRw ?? 0), 0);
  const cReclaim = containers.filter((c) => c.State !== "running").reduce((a, c) => a + (c.SizeRw ?? 0), 0);
  const volumes = present(df.Volumes);
  const vSize = (v: (typeof volumes)[number]) => Math.max(0, v.UsageData?.Size ?? 0);
  const vTotal = volumes.reduce((a, v) => a + vSize(v), 0);
  const vReclaim = volumes.filter((v) => (v.UsageData?.RefCount ?? 0) === 0).reduce((a, v) => a + vSize(v), 0);
  const cache = present(df.BuildCache);
  const bTotal = cache.reduce((a, b) => a + (b.Size ?? 0), 0);
  const bReclaim = cache.filter((b) => !b.InUse && !b.Shared).reduce((a, b) => a + (b.Size ?? 0), 0);
  return [
    {
      Type: "Images",
      TotalCount: String(images.length),
      Active: String(images.filter((i) => (i.Containers ?? 0) > 0).length),
      Size: size4(imagesTotal),
      Reclaimable: reclaim(imagesTotal - used, imagesTotal),
    },
    {
      Type: "Containers",
      TotalCount: String(containers.length),
      Active: String(containers.filter((c) => c.State === "running").length),
      Size: size4(cTotal),
      Reclaimable: reclaim(cReclaim, cTotal),
    },
    {
      Type: "Local Volumes",
      TotalCount: String(volumes.length),
      Active: String(volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length),
      Size: size4(vTotal),
      Reclaimable: reclaim(vReclaim, vTotal),
    },
    {
      Type: "Build Cache",
      TotalCount: String(cache.length),
      Active: String(cache.filter((b) => b.InUse).length),
      Size: size4(bTotal),
      Reclaimable: reclaim(bReclaim, bTotal),
    },
  ];
}
const TABLE = {
  columns: [
    { header: "TYPE", field: "{{.Type}}" },
    { header: "TOTAL", field: "{{.TotalCount}}" },
    { header: "ACTIVE", field: "{{.Active}}" },
    { header: "SIZE", field: "{{.Size}}" },
    { header: "RECLAIMABLE", field: "{{.Reclaimable}}" },
  ],
};

/** GET /system/df as docker 28 decodes it (types.DiskUsage): a field of the wrong type fails, exit 1. */
const DISK_USAGE = struct("types.DiskUsage", {
  LayersSize: INT64,
  Images: IMAGE_LIST,
  Containers: CONTAINER_LIST,
  Volumes: sliceOf(
    struct("volume.Volume", {
      Name: STRING,
      Driver: STRING,
      Mountpoint: STRING,
      Scope: STRING,
      Labels: mapOf(STRING),
      UsageData: struct("volume.UsageData", { RefCount: INT64, Size: INT64 }),
    }),
  ),
  BuildCache: sliceOf(
    struct("build.CacheRecord", {
      ID: STRING,
      Parents: sliceOf(STRING),
      Type: STRING,
      Description: STRING,
      InUse: BOOL,
      Shared: BOOL,
      Size: INT64,
      CreatedAt: STRING,
      LastUsedAt: STRING,
      UsageCount: INT64,
    }),
  ),
});

/** The daemon's answer checked once against docker's types; null is an empty one. */
export function decodeDiskUsage(answer: unknown): DiskUsage {
  return decodeAs<DiskUsage | null>(answer, DISK_USAGE) ?? {};
}

/**
 * -v with a --format other than "table": the template runs once over the whole view, with no
 * newline added ("table ..." drops its "table" and truncates ids; "json" is {{json .}}; "raw" is
 * docker's raw blocks). Its execution errors are Go's words alone, exit 1.
 */
export function verboseFormatted(df: DiskUsage, format: string, now: number): string {
  const trunc = format.startsWith("table");
  let src = format === "raw" ? VERBOSE_RAW : trunc ? format.slice("table".length) : format;
  if (format === "json") src = "{{json .}}";
  // docker's preFormat: spaces (only) trimmed, \t and \n written out become tabs and newlines.
  src = src
    .replace(/^ +| +$/g, "")
    .replaceAll("\\t", "\t")
    .replaceAll("\\n", "\n");
  let run: (data: unknown) => string;
  try {
    run = compileTemplate(src);
  } catch (e) {
    if (e instanceof TemplateError)
      throw new TemplateError("parse", e.detail, `template parsing error: ${e.detail}`, 1);
    throw e;
  }
  try {
    return run(verboseDiskUsage(df, { trunc, now }));
  } catch (e) {
    if (e instanceof TemplateError) throw new TemplateError("exec", e.detail, e.detail, 1);
    throw e;
  }
}

function printVerbose(io: Io, df: DiskUsage, format: string): void {
  const now = Date.now();
  if (format === "table") {
    io.out.write(verboseTables(verboseDiskUsage(df, { trunc: true, now }), buildCacheSize(df)));
  } else {
    io.out.write(verboseFormatted(df, format, now));
  }
}

const command: Command = {
  usage: "system df [OPTIONS]",
  summary: "Show docker disk usage",
  args: { max: 0 },
  flags: [
    {
      long: "format",
      kind: "string",
      help: `Format output using a custom template:
'table':            Print output in table format with column headers (default)
'table TEMPLATE':   Print output in table format using the given Go template
'json':             Print in JSON format
'TEMPLATE':         Print output using the given Go template.
Refer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates`,
    },
    { long: "verbose", short: "v", kind: "bool", help: "Show detailed information on space usage" },
  ],
  async run(io, p) {
    const df = decodeDiskUsage(await io.client().json<unknown>("GET", "/system/df"));
    const format = str(p, "format") || "table";
    if (bool(p, "verbose")) return printVerbose(io, df, format);
    if (format === "raw") {
      const block = compileTemplate(SUMMARY_RAW);
      io.out.write(
        dfRows(df)
          .map((r) => `${block(r)}\n`)
          .join(""),
      );
      return;
    }
    printList(io, format, dfRows(df), TABLE);
  },
};
export default command;
