// A container's devices: the nodes it gets and the device cgroup rules that allow them. Pure: the
// caller stats HostConfig.Devices (and lists the host's devices for a privileged container).
import { InvalidArgumentError } from "../../../common/errors.ts";
import type { Device, DeviceCgroupRule } from "../../../runc/config/types.ts";
import type { DeviceMapping } from "./types.ts";

/** A device node the caller found on the host (stat of HostConfig.Devices[].PathOnHost). */
export interface HostDevice extends Device {
  type: "c" | "b";
  major: number;
  minor: number;
}

/** One HostConfig.Devices entry with its node resolved: the node at `device.path` in the container. */
export interface MappedDevice {
  device: HostDevice;
  /** CgroupPermissions: some of r, w, m. */
  permissions: string;
}

/** The device cgroup rules of a container that is not privileged (dockerd's; the runtime adds its own defaults). */
export const DOCKER_DEVICE_RULES: readonly DeviceCgroupRule[] = Object.freeze([
  { allow: false, access: "rwm" },
  { allow: true, type: "c", major: 1, minor: 5, access: "rwm" }, // /dev/zero
  { allow: true, type: "c", major: 1, minor: 3, access: "rwm" }, // /dev/null
  { allow: true, type: "c", major: 1, minor: 9, access: "rwm" }, // /dev/urandom
  { allow: true, type: "c", major: 1, minor: 8, access: "rwm" }, // /dev/random
  { allow: true, type: "c", major: 5, minor: 0, access: "rwm" }, // /dev/tty
  { allow: true, type: "c", major: 5, minor: 1, access: "rwm" }, // /dev/console
  { allow: false, type: "c", major: 10, minor: 229, access: "rwm" }, // /dev/fuse
] as DeviceCgroupRule[]);

const DEVICE_PERMISSIONS = /^[rwm]{1,3}$/;

/** HostConfig.Devices' permissions: some of r, w and m (empty: rwm). */
export function checkDevicePermissions(devices: readonly DeviceMapping[]): void {
  for (const d of devices) {
    if (d.CgroupPermissions !== "" && !DEVICE_PERMISSIONS.test(d.CgroupPermissions)) {
      throw new InvalidArgumentError(`invalid device mode: ${d.CgroupPermissions}`);
    }
  }
}

/**
 * linux.devices and the device cgroup rules: dockerd's default rules plus HostConfig.Devices, or
 * every host device and "a *:* rwm" when privileged.
 */
export function devicesFor(
  privileged: boolean,
  mapped: readonly MappedDevice[],
  hostDevices: readonly HostDevice[],
): { nodes: Device[]; rules: DeviceCgroupRule[] } {
  if (privileged) {
    return {
      nodes: hostDevices.map((d) => ({ ...d })),
      rules: [{ allow: true, access: "rwm" }],
    };
  }
  const nodes: Device[] = [];
  const rules: DeviceCgroupRule[] = DOCKER_DEVICE_RULES.map((r) => ({ ...r }));
  for (const { device, permissions } of mapped) {
    nodes.push({ ...device });
    rules.push({
      allow: true,
      type: device.type,
      major: device.major,
      minor: device.minor,
      access: permissions || "rwm",
    });
  }
  return { nodes, rules };
}
