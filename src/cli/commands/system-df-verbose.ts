// `docker system df -v`'s rows: docker's diskUsageContext (images, containers, volumes, build
// cache) built from a GET /system/df answer, the four tables docker 28 prints it as, and the
// raw format's template. Pure: the caller passes the answer, whether to truncate and the time now.

import { GO_TYPE, sortedKeys } from "../format/go-values.ts";
import { type ImageRow, type ImageSummary, imageRow, isDangling } from "../format/images-context.ts";
import { type ContainerSummary, type PsRow, psRow, truncateId } from "../format/ps-context.ts";
import { renderFormatted, type TableSpec } from "../format/table.ts";
import { humanDuration, humanSize } from "../format/units.ts";
import { parseImageRef, referenceProblem } from "./image-ref.ts";

export interface VolumeSummary {
  Name?: string;
  Driver?: string;
  Mountpoint?: string;
  Scope?: string;
  Labels?: Record<string, string> | null;
  UsageData?: { RefCount?: number; Size?: number } | null;
}

export interface CacheRecord {
  ID?: string;
  Parents?: string[] | null;
  Type?: string;
  Description?: string;
  InUse?: boolean;
  Shared?: boolean;
  Size?: number;
  CreatedAt?: string;
  LastUsedAt?: string | null;
  UsageCount?: number;
}

/** GET /system/df as the verbose view reads it. */
export interface DiskUsage {
  LayersSize?: number;
  Images?: ImageSummary[] | null;
  Containers?: ContainerSummary[] | null;
  Volumes?: VolumeSummary[] | null;
  BuildCache?: CacheRecord[] | null;
}

/**
 * The repository and tag df -v shows for an image: its first tag only, <none> for a dangling one
 * or a first name without a tag; undefined (the image is left out, as docker leaves it) when that
 * name does not parse as a reference.
 */
export function firstTag(i: ImageSummary): [string, string] | undefined {
  const first = i.RepoTags?.[0];
  if (first === undefined || isDangling(i)) return ["<none>", "<none>"];
  if (referenceProblem(first) !== undefined) return undefined;
  const bare = first.split("@")[0] ?? "";
  const ref = parseImageRef(bare);
  // No tag was split off (parseImageRef's "latest" is its default, not the name's).
  if (ref.repository === bare) return ["<none>", "<none>"];
  // familiar is reference.FamiliarName (docker.io/library/ and docker.io/ dropped) plus ":tag".
  return [ref.familiar.slice(0, -(ref.tag.length + 1)), ref.tag];
}

/** One volumeContext (its fields, .Label "k", and its JSON). */
export function volumeRow(v: VolumeSummary) {
  const labels = v.Labels ?? {};
  const usage = v.UsageData;
  const fields = {
    Availability: "N/A",
    Driver: v.Driver ?? "",
    Group: "N/A",
    // docker joins them in Go's map order, which varies; sorted, they are stable.
    Labels: Object.keys(labels)
      .sort()
      .map((k) => `${k}=${labels[k]}`)
      .join(","),
    Links: usage ? String(usage.RefCount ?? 0) : "N/A",
    Mountpoint: v.Mountpoint ?? "",
    Name: v.Name ?? "",
    Scope: v.Scope ?? "",
    Size: usage ? humanSize(usage.Size ?? 0, 4) : "N/A",
    Status: "N/A",
  };
  return {
    [GO_TYPE]: "*formatter.volumeContext",
    ...fields,
    Label: (name: unknown) => (typeof name === "string" ? (labels[name] ?? "") : ""),
    toJSON: () => sortedKeys(fields),
  };
}

/** Go's zero time, 0001-01-01 UTC (Date.UTC would read year 1 as 1901). */
const GO_ZERO_TIME_MS = new Date(0).setUTCFullYear(1, 0, 1);
const RFC3339 = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/;

/** A JSON time as Go's Time.String() prints it: "2026-12-06 04:12:26.5 +0000 UTC" (zero: year 1). */
export function goTimeOf(t: string | null | undefined): { text: string; ms: number } {
  const m = RFC3339.exec(t ?? "");
  if (!m) return { text: "0001-01-01 00:00:00 +0000 UTC", ms: GO_ZERO_TIME_MS };
  const [, y, mo, d, h, mi, s, frac, zone] = m as unknown as string[];
  const fraction = frac ? `.${frac}`.replace(/0+$/, "").replace(/\.$/, "") : "";
  const offset = zone === "Z" ? "+0000" : (zone as string).replace(":", "");
  const ms = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}${zone}`);
  return { text: `${y}-${mo}-${d} ${h}:${mi}:${s}${fraction} ${offset} ${zone === "Z" ? "UTC" : offset}`, ms };
}

/** One buildCacheContext (its fields and its JSON). */
export function buildCacheRow(b: CacheRecord, opts: { trunc: boolean; now: number }) {
  const id = opts.trunc ? truncateId(b.ID ?? "") : (b.ID ?? "");
  const parent = (b.Parents ?? []).join(", ");
  const created = goTimeOf(b.CreatedAt);
  const used = b.LastUsedAt ? goTimeOf(b.LastUsedAt) : undefined;
  const fields = {
    CacheType: b.Type ?? "",
    CreatedAt: created.text,
    CreatedSince: `${humanDuration(opts.now - created.ms)} ago`,
    Description: b.Description ?? "",
    ID: b.InUse ? `${id}*` : id,
    InUse: String(b.InUse === true),
    LastUsedAt: used?.text ?? "",
    LastUsedSince: used ? `${humanDuration(opts.now - used.ms)} ago` : "",
    Parent: opts.trunc ? truncateId(parent) : parent,
    Shared: String(b.Shared === true),
    Size: humanSize(b.Size ?? 0),
    UsageCount: String(b.UsageCount ?? 0),
  };
  return { [GO_TYPE]: "*formatter.buildCacheContext", ...fields, toJSON: () => sortedKeys(fields) };
}

/** docker's order for build cache records: never used first, then by last use, then by ID. */
function byLastUse(a: CacheRecord, b: CacheRecord): number {
  const ta = a.LastUsedAt ? goTimeOf(a.LastUsedAt).ms : undefined;
  const tb = b.LastUsedAt ? goTimeOf(b.LastUsedAt).ms : undefined;
  if (ta !== tb) {
    if (ta === undefined) return -1;
    if (tb === undefined) return 1;
    return ta - tb;
  }
  const ia = a.ID ?? "";
  const ib = b.ID ?? "";
  return ia < ib ? -1 : ia > ib ? 1 : 0;
}

export interface VerboseDiskUsage {
  Images: ImageRow[];
  Containers: PsRow[];
  Volumes: ReturnType<typeof volumeRow>[];
  BuildCache: ReturnType<typeof buildCacheRow>[];
}

/** docker's diskUsageContext: what a -v template runs over once (`trunc`: a table format). */
export function verboseDiskUsage(df: DiskUsage, opts: { trunc: boolean; now: number }): VerboseDiskUsage {
  const images: ImageRow[] = [];
  for (const i of df.Images ?? []) {
    if (i === null) continue;
    const name = firstTag(i);
    if (name) images.push(imageRow(i, name[0], name[1], "", opts));
  }
  return {
    [GO_TYPE]: "*formatter.diskUsageContext",
    Images: images,
    // The virtual size is not shown: docker zeroes SizeRootFs first.
    Containers: (df.Containers ?? []).filter((c) => c !== null).map((c) => psRow({ ...c, SizeRootFs: 0 }, opts)),
    Volumes: (df.Volumes ?? []).filter((v) => v !== null).map(volumeRow),
    BuildCache: [...(df.BuildCache ?? [])]
      .filter((b) => b !== null)
      .sort(byLastUse)
      .map((b) => buildCacheRow(b, opts)),
  } as VerboseDiskUsage;
}

/** What "Build cache usage:" totals: the records not shared. */
export function buildCacheSize(df: DiskUsage): number {
  return (df.BuildCache ?? []).reduce((a, b) => a + (b && !b.Shared ? (b.Size ?? 0) : 0), 0);
}

const col = (header: string, field: string) => ({ header, field: `{{.${field}}}` });
const IMAGES: TableSpec = {
  columns: [
    col("REPOSITORY", "Repository"),
    col("TAG", "Tag"),
    col("IMAGE ID", "ID"),
    col("CREATED", "CreatedSince"),
    col("SIZE", "Size"),
    col("SHARED SIZE", "SharedSize"),
    col("UNIQUE SIZE", "UniqueSize"),
    col("CONTAINERS", "Containers"),
  ],
};
const CONTAINERS: TableSpec = {
  columns: [
    col("CONTAINER ID", "ID"),
    col("IMAGE", "Image"),
    col("COMMAND", "Command"),
    col("LOCAL VOLUMES", "LocalVolumes"),
    col("SIZE", "Size"),
    col("CREATED", "RunningFor"),
    col("STATUS", "Status"),
    col("NAMES", "Names"),
  ],
};
const VOLUMES: TableSpec = { columns: [col("VOLUME NAME", "Name"), col("LINKS", "Links"), col("SIZE", "Size")] };
const BUILD_CACHE: TableSpec = {
  columns: [
    col("CACHE ID", "ID"),
    col("CACHE TYPE", "CacheType"),
    col("SIZE", "Size"),
    col("CREATED", "CreatedSince"),
    col("LAST USED", "LastUsedSince"),
    col("USAGE", "UsageCount"),
    col("SHARED", "Shared"),
  ],
};

/** The four sections `docker system df -v` prints with no --format. */
export function verboseTables(du: VerboseDiskUsage, cacheSize: number): string {
  return (
    `Images space usage:\n\n${renderFormatted(undefined, du.Images, IMAGES)}` +
    `\nContainers space usage:\n\n${renderFormatted(undefined, du.Containers, CONTAINERS)}` +
    `\nLocal Volumes space usage:\n\n${renderFormatted(undefined, du.Volumes, VOLUMES)}` +
    `\nBuild cache usage: ${humanSize(cacheSize, 4)}\n\n${renderFormatted(undefined, du.BuildCache, BUILD_CACHE)}`
  );
}

/** `--format raw -v`: each image, container, volume and record as docker's raw formats print them. */
export const VERBOSE_RAW =
  "{{range .Images}}type: Image\nrepository: {{ .Repository }}\ntag: {{.Tag}}\ndigest: {{.Digest}}\n" +
  "image_id: {{.ID}}\ncreated_at: {{.CreatedAt}}\nvirtual_size: {{.Size}}\n\n{{end -}}\n" +
  "{{range .Containers}}type: Container\ncontainer_id: {{.ID}}\nimage: {{.Image}}\ncommand: {{.Command}}\n" +
  "created_at: {{.CreatedAt}}\nstate: {{- pad .State 1 0}}\nstatus: {{- pad .Status 1 0}}\nnames: {{.Names}}\n" +
  "labels: {{- pad .Labels 1 0}}\nports: {{- pad .Ports 1 0}}\nsize: {{.Size}}\n\n{{end -}}\n" +
  "{{range .Volumes}}type: Volume\nname: {{.Name}}\ndriver: {{.Driver}}\n\n{{end -}}\n" +
  "{{range .BuildCache}}type: Build Cache\nbuild_cache_id: {{.ID}}\nparent_id: {{.Parent}}\n" +
  "build_cache_type: {{.CacheType}}\ndescription: {{.Description}}\ncreated_at: {{.CreatedAt}}\n" +
  "created_since: {{.CreatedSince}}\nlast_used_at: {{.LastUsedAt}}\nlast_used_since: {{.LastUsedSince}}\n" +
  "usage_count: {{.UsageCount}}\nin_use: {{.InUse}}\nshared: {{.Shared}}\n\n{{end -}}";

/** `--format raw` without -v: a block per summary row. */
export const SUMMARY_RAW =
  "type: {{.Type}}\ntotal: {{.TotalCount}}\nactive: {{.Active}}\nsize: {{.Size}}\nreclaimable: {{.Reclaimable}}\n";
