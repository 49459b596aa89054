// v1 net_cls and net_prio controllers (often not mounted; then only a request for them fails).

import type { Resources } from "../../config/types.ts";
import { writeCgroupFile } from "../fsutil.ts";
import type { V1Controller } from "./controller.ts";

export const netCls: V1Controller = {
  name: "net_cls",
  wants(r: Resources): boolean {
    return Boolean(r.network?.classID);
  },
  set(dir: string, r: Resources): void {
    if (r.network?.classID) writeCgroupFile(dir, "net_cls.classid", String(r.network.classID));
  },
};

export const netPrio: V1Controller = {
  name: "net_prio",
  wants(r: Resources): boolean {
    return (r.network?.priorities?.length ?? 0) > 0;
  },
  set(dir: string, r: Resources): void {
    for (const p of r.network?.priorities ?? []) writeCgroupFile(dir, "net_prio.ifpriomap", `${p.name} ${p.priority}`);
  },
};
