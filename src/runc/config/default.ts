// The example spec printed by `spec` (and `spec --rootless`). It reproduces what Debian's
// runc 1.1.5 prints, key order included, so tools and tutorials that start from `runc spec`
// get the same file from berth-runc.
import type { Mount, Spec } from "./types.ts";

/** The ociVersion runc 1.1.5 writes into its example; kept so the output is byte-identical. */
export const DEFAULT_SPEC_OCI_VERSION = "1.0.2-dev";

export interface DefaultSpecOptions {
  rootless?: boolean;
  /** Host ids mapped to root in the rootless spec; default: this process's effective ids. */
  hostUid?: number;
  hostGid?: number;
}

const DEFAULT_CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];

function defaultMounts(rootless: boolean): Mount[] {
  const devptsOptions = ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"];
  // A user namespace cannot map gid 5 (tty) unless it is in the mapping, so rootless drops it.
  if (!rootless) devptsOptions.push("gid=5");
  return [
    { destination: "/proc", type: "proc", source: "proc" },
    {
      destination: "/dev",
      type: "tmpfs",
      source: "tmpfs",
      options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
    },
    { destination: "/dev/pts", type: "devpts", source: "devpts", options: devptsOptions },
    {
      destination: "/dev/shm",
      type: "tmpfs",
      source: "shm",
      options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
    },
    { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
    // Without its own network namespace a rootless container may not mount sysfs: bind the host's.
    rootless
      ? { destination: "/sys", type: "none", source: "/sys", options: ["rbind", "nosuid", "noexec", "nodev", "ro"] }
      : { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
    {
      destination: "/sys/fs/cgroup",
      type: "cgroup",
      source: "cgroup",
      options: ["nosuid", "noexec", "nodev", "relatime", "ro"],
    },
  ];
}

export function defaultSpec(opts: DefaultSpecOptions = {}): Spec {
  const rootless = opts.rootless === true;
  const spec: Spec = {
    ociVersion: DEFAULT_SPEC_OCI_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ["sh"],
      env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
      cwd: "/",
      capabilities: {
        bounding: [...DEFAULT_CAPS],
        effective: [...DEFAULT_CAPS],
        permitted: [...DEFAULT_CAPS],
        ambient: [...DEFAULT_CAPS],
      },
      // Key order (type, hard, soft) is the one runc prints.
      rlimits: [{ type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: "rootfs", readonly: true },
    hostname: "runc",
    mounts: defaultMounts(rootless),
    linux: {},
  };
  const maskedPaths = [
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/sys/firmware",
    "/proc/scsi",
  ];
  const readonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];
  if (rootless) {
    const hostUid = opts.hostUid ?? process.geteuid?.() ?? 0;
    const hostGid = opts.hostGid ?? process.getegid?.() ?? 0;
    // No network namespace (an unprivileged user could not configure one) and no cgroup limits
    // (the user may not own a cgroup to delegate).
    spec.linux = {
      uidMappings: [{ containerID: 0, hostID: hostUid, size: 1 }],
      gidMappings: [{ containerID: 0, hostID: hostGid, size: 1 }],
      namespaces: [{ type: "pid" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }, { type: "user" }],
      maskedPaths,
      readonlyPaths,
    };
  } else {
    spec.linux = {
      resources: { devices: [{ allow: false, access: "rwm" }] },
      namespaces: [{ type: "pid" }, { type: "network" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }],
      maskedPaths,
      readonlyPaths,
    };
  }
  return spec;
}

/** The spec as `spec` writes it to config.json: tab-indented, no trailing newline, like runc. */
export function defaultSpecJson(opts: DefaultSpecOptions = {}): string {
  return JSON.stringify(defaultSpec(opts), null, "\t");
}
