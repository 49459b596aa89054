// `docker images`' rows: docker's imageContext fields computed from the Engine API's
// GET /images/json entries (a row per repository and tag; per digest with --digests), and the
// table docker shows them in. Pure: the caller passes the list, the flags and the time now.
import { GO_TYPE, sortedKeys } from "./go-values.ts";
import { familiar, truncateId } from "./ps-context.ts";
import type { TableSpec } from "./table.ts";
import { goTimeString, humanSince, humanSize } from "./units.ts";

/** One entry of GET /images/json (the fields images reads). */
export interface ImageSummary {
  Id: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
  Created?: number;
  Size?: number;
  VirtualSize?: number;
  SharedSize?: number;
  Containers?: number;
}

export interface ImageRow {
  Containers: string;
  CreatedAt: string;
  CreatedSince: string;
  Digest: string;
  ID: string;
  Repository: string;
  SharedSize: string;
  Size: string;
  Tag: string;
  UniqueSize: string;
  VirtualSize: string;
}

export function isDangling(i: ImageSummary): boolean {
  const tags = i.RepoTags ?? [];
  const digests = i.RepoDigests ?? [];
  if (tags.length === 0 && digests.length === 0) return true;
  return tags.length === 1 && tags[0] === "<none>:<none>" && digests.length === 1 && digests[0] === "<none>@<none>";
}

/** "name:tag" -> [name, tag] (a registry port's colon is not the tag's). */
function splitTag(ref: string): [string, string] | undefined {
  const at = ref.indexOf("@");
  const bare = at >= 0 ? ref.slice(0, at) : ref;
  const colon = bare.lastIndexOf(":");
  if (colon < 0 || bare.slice(colon).includes("/")) return undefined;
  return [familiar(bare.slice(0, colon)), bare.slice(colon + 1)];
}

function splitDigest(ref: string): [string, string] | undefined {
  const at = ref.indexOf("@");
  if (at < 0) return undefined;
  const name = ref.slice(0, at);
  const colon = name.lastIndexOf(":");
  const bare = colon >= 0 && !name.slice(colon).includes("/") ? name.slice(0, colon) : name;
  return [familiar(bare), ref.slice(at + 1)];
}

/** docker's needDigest: rows per digest with --digests or when the format names {{.Digest}}. */
export function needDigest(format: string | undefined, digestsFlag: boolean): boolean {
  return digestsFlag || (format ?? "").includes("{{.Digest}}");
}

/**
 * One imageContext: `i` shown under `repo`, `tag` and `digest` (images' rows, system df -v's).
 * Shared and unique sizes are HumanSize's 4 digits, the size 3, as docker's context prints them.
 */
export function imageRow(
  i: ImageSummary,
  repo: string,
  tag: string,
  digest: string,
  opts: { trunc: boolean; now: number },
): ImageRow {
  const size = i.Size ?? 0;
  const shared = i.SharedSize ?? -1;
  const fields = {
    Containers: (i.Containers ?? -1) === -1 ? "N/A" : String(i.Containers),
    CreatedAt: goTimeString(i.Created ?? 0),
    CreatedSince: humanSince(i.Created ?? 0, opts.now),
    Digest: digest,
    ID: opts.trunc ? truncateId(i.Id) : i.Id,
    Repository: repo,
    SharedSize: shared === -1 ? "N/A" : humanSize(shared, 4),
    Size: humanSize(size),
    Tag: tag,
    UniqueSize: shared === -1 ? "N/A" : humanSize(size - shared, 4),
    VirtualSize: humanSize(i.VirtualSize ?? size, 4),
  };
  return { [GO_TYPE]: "*formatter.imageContext", ...fields, toJSON: () => sortedKeys(fields) } as ImageRow;
}

/** The rows of one image, as docker's imageFormat expands them (`digests`: see needDigest). */
export function imageRows(i: ImageSummary, opts: { trunc: boolean; digests: boolean; now: number }): ImageRow[] {
  const row = (repo: string, tag: string, digest: string) => imageRow(i, repo, tag, digest, opts);
  if (isDangling(i)) return [row("<none>", "<none>", "<none>")];
  const repoTags = new Map<string, string[]>();
  const repoDigests = new Map<string, string[]>();
  for (const r of i.RepoTags ?? []) {
    const t = splitTag(r);
    if (t) repoTags.set(t[0], [...(repoTags.get(t[0]) ?? []), t[1]]);
  }
  for (const r of i.RepoDigests ?? []) {
    const d = splitDigest(r);
    if (d) repoDigests.set(d[0], [...(repoDigests.get(d[0]) ?? []), d[1]]);
  }
  // docker walks these in Go's map order, which varies from run to run; berth keeps the daemon's.
  const rows: ImageRow[] = [];
  for (const [repo, tags] of repoTags) {
    const digests = opts.digests ? (repoDigests.get(repo) ?? []) : [];
    repoDigests.delete(repo);
    for (const tag of tags) {
      if (digests.length === 0) rows.push(row(repo, tag, "<none>"));
      else for (const d of digests) rows.push(row(repo, tag, d));
    }
  }
  for (const [repo, digests] of repoDigests) {
    if (opts.digests) for (const d of digests) rows.push(row(repo, "<none>", d));
    else rows.push(row(repo, "<none>", ""));
  }
  return rows;
}

/** The images table: docker's default columns (DIGEST with --digests) and its other headers. */
export function imagesTable(opts: { digests?: boolean } = {}): TableSpec {
  const columns = [
    { header: "REPOSITORY", field: "{{.Repository}}" },
    { header: "TAG", field: "{{.Tag}}" },
    { header: "IMAGE ID", field: "{{.ID}}" },
    { header: "CREATED", field: "{{.CreatedSince}}" },
    { header: "SIZE", field: "{{.Size}}" },
  ];
  if (opts.digests) columns.splice(2, 0, { header: "DIGEST", field: "{{.Digest}}" });
  return {
    columns,
    extraHeaders: {
      Digest: "DIGEST",
      CreatedAt: "CREATED AT",
      Containers: "CONTAINERS",
      VirtualSize: "SIZE",
      SharedSize: "SHARED SIZE",
      UniqueSize: "UNIQUE SIZE",
    },
  };
}
