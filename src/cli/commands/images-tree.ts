// `images --tree` (API 1.47, experimental in docker 28): GET /images/json?manifests=1 drawn as
// docker 28 draws it through a pipe: the warning and the legend, then an image's names (longest
// first, the last beside its details), its ID, disk usage, content size (all its manifests'
// content) and the In Use mark, and under it one line per platform manifest. Newest first; dangling
// images only with -a. A terminal gets the same plain layout at its width (docker colours it).
import { humanSize } from "../format/units.ts";

const SPACING = 3;
const WARNING = "WARNING: This is an experimental feature. The output may change and shouldn't be depended on.";
const LEGEND = "Info ->  U In Use ";
/** docker's column titles, bold in the terminal's default colour even through a pipe. */
const title = (s: string) => `\u001b[39m\u001b[1m${s}\u001b[0m`;

interface Details {
  id: string;
  diskUsage: string;
  contentSize: string;
  inUse: boolean;
}
interface Child {
  platform: string;
  details: Details;
}
interface TopImage {
  names: string[];
  details: Details;
  children: Child[];
  created: number;
}

type Doc = Record<string, unknown>;
const obj = (v: unknown): Doc => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Doc) : {});
const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);
const str = (v: unknown): string => (typeof v === "string" ? v : "");
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s): s is string => typeof s === "string") : []);

/** containerd's platforms.Format: os/arch/variant, "unknown" without an OS. */
function platformName(p: unknown): string {
  const d = obj(p);
  const os = str(d.os);
  if (os === "") return "unknown";
  return [os, str(d.architecture), str(d.variant)].filter((s) => s !== "").join("/");
}

/** No name and no digest (or only the "<none>" placeholders): shown only with -a. */
function dangling(i: Doc): boolean {
  const tags = strs(i.RepoTags);
  const digests = strs(i.RepoDigests);
  if (tags.length === 0 && digests.length === 0) return true;
  return tags.length === 1 && tags[0] === "<none>:<none>" && digests.length === 1 && digests[0] === "<none>@<none>";
}

const shortId = (id: string) => (id.startsWith("sha256:") ? id.slice(7) : id).slice(0, 12);

export function treeImages(answer: unknown, all: boolean): TopImage[] {
  const list = Array.isArray(answer) ? answer.map(obj) : [];
  const images = list
    .filter((i) => all || !dangling(i))
    .map((i): TopImage => {
      let content = 0;
      let inUse = num(i.Containers) > 0;
      const children: Child[] = [];
      for (const m of Array.isArray(i.Manifests) ? i.Manifests.map(obj) : []) {
        const size = obj(m.Size);
        content += num(size.Content);
        if (m.Kind !== "image") continue;
        const data = obj(m.ImageData);
        const childInUse = strs(data.Containers).length > 0;
        inUse ||= childInUse;
        children.push({
          platform: platformName(data.Platform),
          details: {
            id: shortId(str(m.ID)),
            diskUsage: humanSize(num(size.Total)),
            contentSize: humanSize(num(size.Content)),
            inUse: childInUse,
          },
        });
      }
      return {
        names: strs(i.RepoTags),
        details: { id: shortId(str(i.Id)), diskUsage: humanSize(num(i.Size)), contentSize: humanSize(content), inUse },
        children,
        created: num(i.Created),
      };
    });
  return images.sort((a, b) => b.created - a.created);
}

/** Go's len: the name column is sized in bytes ("└─ " is 7). */
const goLen = (s: string) => Buffer.byteLength(s);
/** Cut to `width` characters with an ellipsis. */
function fit(s: string, width: number): string {
  const chars = [...s];
  return chars.length <= width ? s : `${chars.slice(0, Math.max(0, width - 1)).join("")}…`;
}
const left = (s: string, w: number) => {
  const f = fit(s, w);
  return f + " ".repeat(Math.max(0, w - [...f].length));
};
const right = (s: string, w: number) => {
  const f = fit(s, w);
  return " ".repeat(Math.max(0, w - [...f].length)) + f;
};

interface Column {
  title: string;
  width: number;
  align: "left" | "right";
  value?: (d: Details) => string;
}

export function renderTree(images: readonly TopImage[], termWidth = 80): string {
  const width = Math.max(20, termWidth || 80);
  const anyInUse = images.some((i) => i.details.inUse || i.children.some((c) => c.details.inUse));
  const spacing = images.some((i) => i.children.length > 0);
  let columns: Column[] = [
    { title: "Image", width: 0, align: "left" },
    { title: "ID", width: 12, align: "left", value: (d) => d.id },
    { title: "Disk usage", width: 10, align: "right", value: (d) => d.diskUsage },
    { title: "Content size", width: 12, align: "right", value: (d) => d.contentSize },
    // The In Use mark's column: as wide as its title (the plain mark is one letter).
    { title: "Extra", width: 5, align: "left", value: (d) => (anyInUse ? (d.inUse ? "U" : " ") : "") },
  ];
  // The name column takes what the others leave; columns that would squeeze it under 12 go.
  let nameWidth = width;
  for (let i = 1; i < columns.length; i++) {
    const take = columns[i]!.width + SPACING;
    if (nameWidth - take < 12) {
      columns = columns.slice(0, i);
      break;
    }
    nameWidth -= take;
  }
  let widest = goLen("Image");
  for (const img of images) {
    for (const n of img.names) widest = Math.max(widest, goLen(n));
    for (const c of img.children) widest = Math.max(widest, goLen(c.platform) + goLen("└─ "));
  }
  columns[0]!.width = Math.min(nameWidth, widest);
  const cell = (c: Column, s: string) => (c.align === "right" ? right(s, c.width) : left(s, c.width));
  const details = (d: Details) =>
    columns
      .filter((c) => c.value !== undefined)
      .map((c) => " ".repeat(SPACING) + cell(c, c.value!(d)))
      .join("");

  let out = `${WARNING}\n${" ".repeat(Math.max(0, width - LEGEND.length))}${LEGEND}\n\n`;
  out += `${columns
    .map((c) => {
      const t = c.title.toUpperCase();
      const pad = " ".repeat(Math.max(0, c.width - t.length));
      return c.align === "right" ? pad + title(t) : title(t) + pad;
    })
    .join(" ".repeat(SPACING))}\n`;
  for (const img of images) {
    const name = columns[0]!;
    if (img.names.length === 0) out += cell(name, "<untagged>");
    // Longest first; all but the last on lines of their own, whole.
    const names = [...img.names].sort((a, b) => b.length - a.length);
    names.forEach((n, i) => {
      out += i < names.length - 1 ? `${n}\n` : cell(name, n);
    });
    out += details(img.details);
    if (img.children.length > 0 || spacing) out += "\n";
    img.children.forEach((c, i) => {
      out += cell(name, `${i === img.children.length - 1 ? "└─" : "├─"} ${c.platform}`) + details(c.details) + "\n";
    });
    out += "\n";
  }
  return out;
}
