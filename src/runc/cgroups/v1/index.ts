// Every v1 controller berth configures, in the order runc applies them.
import { blkio } from "./blkio.ts";
import type { V1Controller } from "./controller.ts";
import { cpu } from "./cpu.ts";
import { cpuacct } from "./cpuacct.ts";
import { cpuset } from "./cpuset.ts";
import { devices } from "./devices.ts";
import { hugetlb } from "./hugetlb.ts";
import { memory } from "./memory.ts";
import { netCls, netPrio } from "./net.ts";
import { pids } from "./pids.ts";

export const V1_CONTROLLER_ORDER: readonly V1Controller[] = [
  cpuset,
  devices,
  memory,
  cpu,
  cpuacct,
  pids,
  blkio,
  hugetlb,
  netCls,
  netPrio,
];
