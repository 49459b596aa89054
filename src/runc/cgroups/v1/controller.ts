// The shape every v1 controller module has. `wants` says whether the resources ask anything of
// the controller: a missing controller is silently skipped unless it is wanted (as runc does).

import type { Resources } from "../../config/types.ts";
import type { CgroupStats } from "../stats.ts";

export interface V1Controller {
  readonly name: string;
  wants(r: Resources): boolean;
  set(dir: string, r: Resources): void;
  stats?(dir: string, s: CgroupStats): void;
}
