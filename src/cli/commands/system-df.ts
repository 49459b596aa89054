// berth system df: GET /system/df summed up as docker's table (TYPE TOTAL ACTIVE SIZE RECLAIMABLE).

import { humanSize } from "../format/units.ts";
import { type Command, str } from "./command.ts";
import { printList } from "./output.ts";

interface Df {
  LayersSize?: number;
  Images?: { Containers?: number; Size?: number; SharedSize?: number }[] | null;
  Containers?: { State?: string; SizeRw?: number }[] | null;
  Volumes?: { UsageData?: { RefCount?: number; Size?: number } }[] | null;
  BuildCache?: { InUse?: boolean; Shared?: boolean; Size?: number }[] | null;
}

const size4 = (n: number) => humanSize(n, 4);
/** "1.2MB (50%)" when there is a total, else the size alone (docker's rule). */
function reclaim(reclaimable: number, total: number): string {
  return total > 0 ? `${size4(reclaimable)} (${Math.floor((reclaimable * 100) / total)}%)` : size4(reclaimable);
}

export function dfRows(df: Df) {
  const images = df.Images ?? [];
  const imagesTotal = df.LayersSize ?? 0;
  let used = 0;
  for (const i of images) {
    if ((i.Containers ?? 0) === 0 || i.Size === -1 || i.SharedSize === -1) continue;
    used += (i.Size ?? 0) - (i.SharedSize ?? 0);
  }
  const containers = df.Containers ?? [];
  const cTotal = containers.reduce((a, c) => a + (c.SizeRw ?? 0), 0);
  const cReclaim = containers.filter((c) => c.State !== "running").reduce((a, c) => a + (c.SizeRw ?? 0), 0);
  const volumes = df.Volumes ?? [];
  const vSize = (v: (typeof volumes)[number]) => Math.max(0, v.UsageData?.Size ?? 0);
  const vTotal = volumes.reduce((a, v) => a + vSize(v), 0);
  const vReclaim = volumes.filter((v) => (v.UsageData?.RefCount ?? 0) === 0).reduce((a, v) => a + vSize(v), 0);
  const cache = df.BuildCache ?? [];
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

const command: Command = {
  usage: "system df [OPTIONS]",
  summary: "Show docker disk usage",
  args: { max: 0 },
  flags: [{ long: "format", kind: "string", help: "Format output using a custom template" }],
  async run(io, p) {
    const df = await io.client().json<Df>("GET", "/system/df");
    printList(io, str(p, "format"), dfRows(df ?? {}), TABLE);
  },
};
export default command;
