// v1 devices controller: the spec's rules become the cgroup's allow/deny lists. The writes are
// skipped when the cgroup already enforces the same policy, so `update` opens no window in which
// devices are briefly denied.
import type { Resources } from "../../spec/types.ts";
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
    if (samePolicy(parseDevicesList(readCgroupFile(dir, "devices.list")), target)) return;
    for (const w of v1DeviceWrites(target)) writeCgroupFile(dir, w.file, w.value);
  },
};
