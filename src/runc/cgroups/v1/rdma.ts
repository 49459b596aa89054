// v1 rdma controller.

import type { Resources } from "../../config/types.ts";
import { rdmaLines, setRdma } from "../rdma.ts";
import type { V1Controller } from "./controller.ts";

export const rdma: V1Controller = {
  name: "rdma",
  wants(r: Resources): boolean {
    return rdmaLines(r).length > 0;
  },
  set: setRdma,
};
