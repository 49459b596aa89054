// The runtime-spec "features" document printed by `features`: what this build of berth-runc
// recognises (decided at build time, as the runtime-spec asks, not probed from the host).
import { CAPABILITY_NAMES } from "./capabilities.ts";
import { HOOK_NAMES } from "./hooks.ts";
import { KNOWN_MOUNT_OPTIONS } from "./mount-options.ts";
import { KNOWN_NAMESPACES } from "./namespaces.ts";
import { SECCOMP_ACTIONS, SECCOMP_ARCHS, SECCOMP_FLAGS, SECCOMP_OPERATORS } from "./seccomp-vocabulary.ts";
import { OCI_VERSION } from "./types.ts";

export const OCI_VERSION_MIN = "1.0.0";

export interface FeaturesOptions {
  /** berth-runc's version and commit, reported as annotations. */
  version?: string;
  commit?: string;
}

export interface FeaturesDocument {
  ociVersionMin: string;
  ociVersionMax: string;
  hooks: string[];
  mountOptions: string[];
  linux: {
    namespaces: string[];
    capabilities: string[];
    cgroup: { v1: boolean; v2: boolean; systemd: boolean; systemdUser: boolean; rdma: boolean };
    seccomp: {
      enabled: boolean;
      actions: string[];
      operators: string[];
      archs: string[];
      knownFlags: string[];
      supportedFlags: string[];
    };
    apparmor: { enabled: boolean };
    selinux: { enabled: boolean };
    intelRdt: { enabled: boolean };
    mountExtensions: { idmap: { enabled: boolean } };
  };
  annotations: Record<string, string>;
  potentiallyUnsafeConfigAnnotations: string[];
}

export function featuresDocument(opts: FeaturesOptions = {}): FeaturesDocument {
  const annotations: Record<string, string> = {};
  if (opts.commit !== undefined) annotations["dev.berth.runc.commit"] = opts.commit;
  if (opts.version !== undefined) annotations["dev.berth.runc.version"] = opts.version;
  return {
    ociVersionMin: OCI_VERSION_MIN,
    ociVersionMax: OCI_VERSION,
    hooks: [...HOOK_NAMES],
    mountOptions: [...KNOWN_MOUNT_OPTIONS],
    linux: {
      namespaces: [...KNOWN_NAMESPACES].sort(),
      capabilities: [...CAPABILITY_NAMES],
      // No systemd cgroup driver and no rdma controller support yet.
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: false },
      seccomp: {
        enabled: true,
        actions: [...SECCOMP_ACTIONS],
        operators: [...SECCOMP_OPERATORS],
        archs: [...SECCOMP_ARCHS],
        knownFlags: [...SECCOMP_FLAGS],
        // The compiler applies every known flag; the kernels we target (>= 5.19) accept them all.
        supportedFlags: [...SECCOMP_FLAGS],
      },
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
      // idmap/ridmap options are parsed and validated, but the native stage does not apply them yet.
      mountExtensions: { idmap: { enabled: false } },
    },
    annotations,
    potentiallyUnsafeConfigAnnotations: [],
  };
}
