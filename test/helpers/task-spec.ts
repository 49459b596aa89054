// A small OCI runtime spec for the client tests to create containers with (the engine's real spec
// builder is src/engine/containers/spec/): busybox as root with the usual mounts, namespaces and
// a deny-all device rule (runtimes add their default devices), a cgroup of the caller's choosing.

const PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const CAPS = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FOWNER",
  "CAP_KILL",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_NET_BIND_SERVICE",
];

export interface ProcessOptions {
  args: string[];
  terminal?: boolean;
  env?: string[];
}

/** The spec's `process` object (also what an exec sends). */
export function processSpec(o: ProcessOptions): Record<string, unknown> {
  return {
    terminal: o.terminal === true,
    user: { uid: 0, gid: 0 },
    args: o.args,
    env: [PATH, ...(o.terminal ? ["TERM=xterm"] : []), ...(o.env ?? [])],
    cwd: "/",
    capabilities: { bounding: CAPS, effective: CAPS, permitted: CAPS },
    rlimits: [{ type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 }],
    noNewPrivileges: true,
  };
}

export interface SpecOptions extends ProcessOptions {
  hostname: string;
  /** The container's cgroup ("/<parent>/<id>"). */
  cgroupsPath: string;
  /**
   * Share the host's pid namespace: the process is then no namespace's init, so a signal it does
   * not handle (SIGTERM) kills it, as it would a process under an init.
   */
  hostPid?: boolean;
  /** linux.resources.memory.limit in bytes (ctr's --memory-limit). */
  memoryLimit?: number;
}

export function taskSpec(o: SpecOptions): Record<string, unknown> {
  const namespaces = ["ipc", "uts", "mount", "network", ...(o.hostPid ? [] : ["pid"])].map((type) => ({ type }));
  return {
    ociVersion: "1.0.2",
    process: processSpec(o),
    root: { path: "rootfs", readonly: false },
    hostname: o.hostname,
    mounts: [
      { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
      {
        destination: "/dev",
        type: "tmpfs",
        source: "tmpfs",
        options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
      },
      {
        destination: "/dev/pts",
        type: "devpts",
        source: "devpts",
        options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
      },
      {
        destination: "/dev/shm",
        type: "tmpfs",
        source: "shm",
        options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
      },
      { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
    ],
    linux: {
      namespaces,
      cgroupsPath: o.cgroupsPath,
      resources: {
        devices: [{ allow: false, access: "rwm" }],
        ...(o.memoryLimit ? { memory: { limit: o.memoryLimit } } : {}),
      },
      maskedPaths: ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"],
      readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
    },
  };
}
