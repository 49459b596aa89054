// `docker ps`' rows: docker's ContainerContext fields computed from the Engine API's
// GET /containers/json entries, and the table docker shows them in. Pure: the caller passes the
// list, whether to truncate (--no-trunc) and the time now.
import { goQuote } from "../flags/go-quote.ts";
import { GO_TYPE, sortedKeys } from "./go-values.ts";
import type { TableSpec } from "./table.ts";
import { compileTemplate, TemplateError } from "./template.ts";
import { goTimeString, humanSince, humanSize } from "./units.ts";

/** One entry of GET /containers/json (the fields ps reads). */
export interface ContainerSummary {
  Id: string;
  Names?: string[] | null;
  Image?: string;
  ImageID?: string;
  Command?: string;
  Created?: number;
  Ports?: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[] | null;
  Labels?: Record<string, string> | null;
  State?: string;
  Status?: string;
  SizeRw?: number;
  SizeRootFs?: number;
  Mounts?: { Name?: string; Source?: string; Driver?: string }[] | null;
  NetworkSettings?: { Networks?: Record<string, unknown> | null } | null;
}

/** stringid.TruncateID: what follows a "sha256:" prefix, 12 characters. */
export function truncateId(id: string): string {
  const i = id.indexOf(":");
  const bare = i >= 0 ? id.slice(i + 1) : id;
  return bare.slice(0, 12);
}

/** formatter.Ellipsis for single-width text: at most `max` characters, the last one "…". */
export function ellipsis(s: string, max: number): string {
  if (max <= 0) return "";
  const chars = [...s];
  if (max === 1) return chars[0] ?? "";
  if (chars.length <= max) return s;
  return `${chars.slice(0, max - 1).join("")}…`;
}

/** A reference as docker shows it: docker.io/library/ and docker.io/ dropped. */
export function familiar(ref: string): string {
  if (ref.startsWith("docker.io/library/")) return ref.slice("docker.io/library/".length);
  if (ref.startsWith("docker.io/")) return ref.slice("docker.io/".length);
  return ref;
}

/** ps' IMAGE: a name without its digest, an image ID truncated, <no image> when empty. */
function imageOf(c: ContainerSummary, trunc: boolean): string {
  const image = c.Image ?? "";
  if (image === "") return "<no image>";
  if (!trunc) return image;
  if (c.ImageID && truncateId(c.ImageID) === truncateId(image)) return truncateId(image);
  const at = image.indexOf("@");
  return familiar(at >= 0 ? image.slice(0, at) : image);
}

/** api/types DisplayablePorts: runs of ports grouped (80-81/tcp), host mappings after them. */
export function displayablePorts(ports: NonNullable<ContainerSummary["Ports"]>): string {
  const sorted = [...ports].sort((a, b) => {
    if (a.PrivatePort !== b.PrivatePort) return a.PrivatePort - b.PrivatePort;
    if ((a.IP ?? "") !== (b.IP ?? "")) return (a.IP ?? "") < (b.IP ?? "") ? -1 : 1;
    if ((a.PublicPort ?? 0) !== (b.PublicPort ?? 0)) return (a.PublicPort ?? 0) - (b.PublicPort ?? 0);
    return a.Type < b.Type ? -1 : a.Type > b.Type ? 1 : 0;
  });
  const groups = new Map<string, { first: number; last: number }>();
  const result: string[] = [];
  const mappings: string[] = [];
  const formGroup = (key: string, first: number, last: number) => {
    const parts = key.split("/");
    const ip = parts.length > 1 ? parts.slice(0, -1).join("/") : "";
    const type = parts[parts.length - 1];
    let group = first === last ? `${first}` : `${first}-${last}`;
    if (ip) group = `${ip}:${group}->${group}`;
    return `${group}/${type}`;
  };
  for (const p of sorted) {
    const current = p.PrivatePort;
    let key = p.Type;
    if (p.IP) {
      if ((p.PublicPort ?? 0) !== current) {
        const host = p.IP.includes(":") ? `[${p.IP}]` : p.IP;
        mappings.push(`${host}:${p.PublicPort ?? 0}->${p.PrivatePort}/${p.Type}`);
        continue;
      }
      key = `${p.IP}/${p.Type}`;
    }
    const g = groups.get(key);
    if (!g) {
      groups.set(key, { first: current, last: current });
      continue;
    }
    if (current === g.last + 1) {
      g.last = current;
      continue;
    }
    result.push(formGroup(key, g.first, g.last));
    // Go replaces the map entry: the key keeps its first place in the final order.
    g.first = current;
    g.last = current;
  }
  for (const [key, g] of groups) result.push(formGroup(key, g.first, g.last));
  return [...result, ...mappings].join(", ");
}

/** One ps row: docker's ContainerContext (its fields, .Label "k", and its JSON). */
export interface PsRow {
  ID: string;
  Image: string;
  Command: string;
  CreatedAt: string;
  RunningFor: string;
  Ports: string;
  State: string;
  Status: string;
  Size: string;
  Names: string;
  Labels: string;
  Mounts: string;
  LocalVolumes: string;
  Networks: string;
  Label(name: string): string;
}

export function psRow(c: ContainerSummary, opts: { trunc: boolean; now: number }): PsRow {
  const { trunc } = opts;
  const labels = c.Labels ?? {};
  let names = (c.Names ?? []).map((n) => (n.startsWith("/") ? n.slice(1) : n));
  if (trunc) {
    // A linked container's other names (/a/b) are left out.
    const own = names.find((n) => !n.includes("/"));
    if (own !== undefined) names = [own];
  }
  const command = trunc ? ellipsis(c.Command ?? "", 20) : (c.Command ?? "");
  const srw = humanSize(c.SizeRw ?? 0);
  const mounts = (c.Mounts ?? []).map((m) => {
    const name = m.Name ? m.Name : (m.Source ?? "");
    return trunc ? ellipsis(name, 15) : name;
  });
  const fields = {
    // strconv.Quote, as docker's: a control character is \x1b, not JSON's \u001b.
    Command: goQuote(command),
    CreatedAt: goTimeString(c.Created ?? 0),
    ID: trunc ? truncateId(c.Id) : c.Id,
    Image: imageOf(c, trunc),
    // docker joins them in Go's map order, which varies from run to run; sorted, they are stable.
    Labels: Object.keys(labels)
      .sort()
      .map((k) => `${k}=${labels[k]}`)
      .join(","),
    LocalVolumes: String((c.Mounts ?? []).filter((m) => m.Driver === "local").length),
    Mounts: mounts.join(","),
    Names: names.join(","),
    Networks: Object.keys(c.NetworkSettings?.Networks ?? {})
      .sort()
      .join(","),
    Ports: displayablePorts(c.Ports ?? []),
    RunningFor: humanSince(c.Created ?? 0, opts.now),
    Size: (c.SizeRootFs ?? 0) > 0 ? `${srw} (virtual ${humanSize(c.SizeRootFs ?? 0)})` : srw,
    State: c.State ?? "",
    Status: c.Status ?? "",
  };
  const row = {
    [GO_TYPE]: "*formatter.ContainerContext",
    ...fields,
    Label: (name: string) => (typeof name === "string" ? (labels[name] ?? "") : ""),
    // docker 28 marshals the context's fields in key order, with its Platform (null here); read
    // through the row, so that psSizeNeeded sees .Size used.
    toJSON: () => {
      const out: Record<string, unknown> = { Platform: null };
      for (const k of Object.keys(fields)) out[k] = (row as unknown as Record<string, unknown>)[k];
      return sortedKeys(out);
    },
  } as PsRow;
  return row;
}

/**
 * Whether `docker ps --format <format>` asks the daemon for sizes without -s: docker runs the
 * template once over an empty row and asks when .Size was read ({{.Size}}, {{json .}}). Its
 * errors are docker ps' own words, before anything is sent ("failed to parse template: ...",
 * "failed to execute template: ...", exit 1).
 */
export function psSizeNeeded(format: string | undefined): boolean {
  if (format === undefined || format === "") return false;
  let used = false;
  const probe = psRow({ Id: "" }, { trunc: true, now: 0 });
  Object.defineProperty(probe, "Size", {
    enumerable: true,
    get: () => {
      used = true;
      return "";
    },
  });
  let run: (data: unknown) => string;
  try {
    run = compileTemplate(format);
  } catch (e) {
    if (e instanceof TemplateError)
      throw new TemplateError("parse", e.detail, `failed to parse template: ${e.detail}`, 1);
    throw e;
  }
  try {
    run(probe);
  } catch (e) {
    if (e instanceof TemplateError)
      throw new TemplateError("exec", e.detail, `failed to execute template: ${e.detail}`, 1);
    throw e;
  }
  return used;
}

/** The ps table: docker's default columns (SIZE with -s) and the headers of its other fields. */
export function psTable(opts: { size?: boolean } = {}): TableSpec {
  const columns = [
    { header: "CONTAINER ID", field: "{{.ID}}" },
    { header: "IMAGE", field: "{{.Image}}" },
    { header: "COMMAND", field: "{{.Command}}" },
    { header: "CREATED", field: "{{.RunningFor}}" },
    { header: "STATUS", field: "{{.Status}}" },
    { header: "PORTS", field: "{{.Ports}}" },
    { header: "NAMES", field: "{{.Names}}" },
  ];
  if (opts.size) columns.push({ header: "SIZE", field: "{{.Size}}" });
  return {
    columns,
    extraHeaders: {
      CreatedAt: "CREATED AT",
      State: "STATE",
      Size: "SIZE",
      Labels: "LABELS",
      Mounts: "MOUNTS",
      LocalVolumes: "LOCAL VOLUMES",
      Networks: "NETWORKS",
      Platform: "PLATFORM",
    },
  };
}
