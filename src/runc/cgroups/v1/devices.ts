// v1 devices controller: writes the emulated policy, and nothing when it is already in place.

import type { Resources } from "../../config/types.ts";
import { devicePolicy, parseDevicesList, samePolicy, v1DeviceWrites } from "../devices.ts";
import { readCgroupFile, writeCgroupFile } from "../fsutil.ts";
import type { V1Controller } from "./controller.ts";

export const devices: V1Controller = {
  name: "devices",
  wants(r: Resources): boolean {
    return r.devices !== undefined;
  },
  set(dir: string, r: Resources): void {
    if (r.devices === undefined) return;
    const target = devicePolicy(r.devices);
    const current = parseDevicesList(readCgroupFile(dir, "devices.list"));
    // devices.list cannot show deny exceptions in allow-all mode, so only an allow-list compares.
    if (!target.defaultAllow && samePolicy(current, target)) return;
    for (const w of v1DeviceWrites(target)) writeCgroupFile(dir, w.file, w.value);
  },
};
