// A container's capabilities: docker's 14 defaults, CapAdd/CapDrop (names with or without CAP_,
// any case, "ALL"), --privileged. Pure; the names come from berth-runc's table.
import { InvalidArgumentError } from "../../../common/errors.ts";
import { CAPABILITY_NAMES, isKnownCapability } from "../../../runc/config/capabilities.ts";

/** Docker's default capability set, in the order dockerd writes it (oci/caps/defaults.go). */
export const DEFAULT_CAPABILITIES: readonly string[] = Object.freeze([
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
]);

/** Every capability the running kernel has (numbers 0..lastCap), in number order. */
export function allCapabilities(lastCap: number): string[] {
  return CAPABILITY_NAMES.slice(0, lastCap + 1);
}

/** "net_admin" → "CAP_NET_ADMIN"; "all" → "ALL"; an unknown name refused as dockerd refuses it. */
function normalize(list: readonly string[], field: "CapAdd" | "CapDrop"): { caps: string[]; all: boolean } {
  const caps: string[] = [];
  let all = false;
  for (const raw of list) {
    const upper = raw.toUpperCase();
    if (upper === "ALL") {
      all = true;
      continue;
    }
    const name = upper.startsWith("CAP_") ? upper : `CAP_${upper}`;
    if (!isKnownCapability(name)) {
      throw new InvalidArgumentError(`invalid ${field}: unknown capability: ${JSON.stringify(name)}`);
    }
    if (!caps.includes(name)) caps.push(name);
  }
  return { caps, all };
}

export interface CapabilityRequest {
  capAdd: readonly string[];
  capDrop: readonly string[];
  privileged: boolean;
  /** The kernel's highest capability number (/proc/sys/kernel/cap_last_cap). */
  lastCap: number;
}

/** The capability list (bounding set; also effective and permitted for uid 0), as dockerd builds it. */
export function capabilityList(req: CapabilityRequest): string[] {
  const add = normalize(req.capAdd, "CapAdd");
  const drop = normalize(req.capDrop, "CapDrop");
  if (req.privileged) return allCapabilities(req.lastCap);
  if (add.all) return allCapabilities(req.lastCap).filter((c) => !drop.caps.includes(c));
  if (drop.all) return add.caps;
  const kept = DEFAULT_CAPABILITIES.filter((c) => !drop.caps.includes(c));
  return [...kept, ...add.caps.filter((c) => !kept.includes(c))];
}
