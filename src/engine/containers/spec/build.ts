// buildSpec: what `docker create` asked for, over the image's config, as the runtime-spec
// config.json berthd hands to containerd, with docker's defaults. Pure: everything it needs from
// the host (the image's users, the CPUs, the kernel, device nodes, another container's namespace
// files, the files berthd writes for resolv.conf and hosts) is given to it.
import { errorMessage, InvalidArgumentError } from "../../../common/errors.ts";
import type { Mount, Seccomp, Spec } from "../../../runc/config/types.ts";
import { compileSeccomp } from "../../../runc/seccomp/index.ts";
import { capabilityList } from "./capabilities.ts";
import { DEFAULT_SECCOMP_PROFILE } from "./default-seccomp.ts";
import { checkDevicePermissions, devicesFor, type HostDevice, type MappedDevice } from "./devices.ts";
import { checkHealthConfig } from "./healthcheck.ts";
import { mergeConfig } from "./merge.ts";
import { DEFAULT_SHM_SIZE, defaultMounts, INIT_PATH, keptDefaults, sortByDepth, userMounts } from "./mounts.ts";
import {
  checkSysctls,
  type JoinedNamespaces,
  type Modes,
  namespacesFor,
  parseModes,
  sysctlsFor,
} from "./namespaces.ts";
import { processArgs, processEnv, workingDir } from "./process.ts";
import { checkResources, type HostFacts, resourcesFor } from "./resources.ts";
import { rlimitsFor } from "./rlimits.ts";
import { SECCOMP_ARCH_OF_GO, seccompFor } from "./seccomp.ts";
import { parseSecurityOpt, type SecurityOptions } from "./security-opt.ts";
import type { ContainerConfig, HostConfig, ImageConfig } from "./types.ts";
import { resolveUser, type UserDb } from "./user.ts";

/** The runtime-spec version berthd writes (what berth-runc, runc 1.1+ and crun read). */
export const SPEC_OCI_VERSION = "1.0.2-dev";

export type { HostDevice, MappedDevice };

export interface SpecInput {
  /** Config as the request sent it or as create merged it (merging again changes nothing). */
  config: ContainerConfig;
  hostConfig: HostConfig;
  image: ImageConfig;
  /** The container's hostname (Config.Hostname, or what the daemon chose: the id's first 12). */
  hostname: string;
  /** root.path: the mounted rootfs (or a bundle-relative path). */
  rootfs: string;
  users: UserDb;
  host: HostFacts;
  /** linux.cgroupsPath, as the daemon names cgroups. */
  cgroupsPath?: string;
  /** The host's tini, bound at /sbin/docker-init with Init. */
  initBinary?: string;
  /** HostConfig.Devices, resolved by the caller (directories expanded). */
  devices?: readonly MappedDevice[];
  /** Every device node of the host, given to a privileged container. */
  hostDevices?: readonly HostDevice[];
  /** Namespace files of the containers joined by container:<id> modes. */
  joins?: JoinedNamespaces;
  /** The host directory bound at /dev/shm for IpcMode shareable or container:<id>. */
  shmPath?: string;
  /** Mounts the daemon adds of its own files: /etc/resolv.conf, /etc/hostname, /etc/hosts. */
  extraMounts?: readonly Mount[];
  /** dockerd's rule: a bind of the daemon's root, or of a directory above it, is rslave by default. */
  daemonRoot?: string;
}

export interface BuiltSpec {
  spec: Spec;
  /** What was accepted but has no effect (AppArmor, SELinux, volumes), for the create response. */
  warnings: string[];
}

/**
 * The checks of a create request that need neither the image nor the rootfs. `daemonRoot`: the
 * daemon's data root, whose binds need rslave or rshared (mounts.ts daemonRootBind).
 */
export function checkCreate(
  config: ContainerConfig,
  h: HostConfig,
  host: HostFacts,
  daemonRoot?: string,
): SecurityOptions {
  const policy = h.RestartPolicy;
  if (h.AutoRemove && policy.Name !== "" && policy.Name !== "no") {
    throw new InvalidArgumentError("can't create 'AutoRemove' container with restart policy");
  }
  checkRestartPolicy(policy);
  workingDir(config.WorkingDir, {});
  checkHealthConfig(config.Healthcheck);
  checkResources(h, host);
  const modes = parseModes(h, host.cgroupVersion);
  checkSysctls(h.Sysctls, modes);
  capabilityList({ capAdd: h.CapAdd, capDrop: h.CapDrop, privileged: false, lastCap: host.lastCap });
  userMounts(h, daemonRoot);
  rlimitsFor(h);
  checkDevicePermissions(h.Devices);
  return parseSecurityOpt(h.SecurityOpt);
}

/** A restart policy's retry count checked as dockerd checks it (create and update). */
export function checkRestartPolicy(policy: HostConfig["RestartPolicy"]): void {
  if (policy.Name === "on-failure" && policy.MaximumRetryCount < 0) {
    throw new InvalidArgumentError("maximum retry count cannot be negative");
  }
  if (policy.Name !== "on-failure" && policy.Name !== "" && policy.MaximumRetryCount !== 0) {
    throw new InvalidArgumentError(`maximum retry count cannot be used with restart policy '${policy.Name}'`);
  }
}

/** The mounts in dockerd's order: the defaults it keeps, the init, then the rest by target depth. */
function mountsFor(input: SpecInput, modes: Modes): { mounts: Mount[]; rootfsPropagation?: string } {
  const h = input.hostConfig;
  const user = userMounts(h, input.daemonRoot);
  const extra = [...(input.extraMounts ?? [])];
  if (modes.ipc === "shareable" || modes.ipc === "container") {
    if (input.shmPath === undefined) {
      throw new InvalidArgumentError(`IpcMode ${h.IpcMode}: the /dev/shm to share is not known`);
    }
    extra.push({ destination: "/dev/shm", type: "bind", source: input.shmPath, options: ["rbind", "rprivate"] });
  } else if (modes.ipc === "host") {
    extra.push({ destination: "/dev/shm", type: "bind", source: "/dev/shm", options: ["rbind", "rprivate"] });
  }
  const rest = sortByDepth([...user.mounts, ...extra]);
  const defaults = defaultMounts({
    privileged: h.Privileged,
    shmSize: h.ShmSize > 0 ? h.ShmSize : DEFAULT_SHM_SIZE,
    privateShm: modes.ipc === "private",
  });
  const mounts = keptDefaults(defaults, rest);
  if (h.Init === true) {
    if (input.initBinary === undefined) throw new InvalidArgumentError("Init: no docker-init binary is configured");
    mounts.push({ destination: INIT_PATH, type: "bind", source: input.initBinary, options: ["bind", "ro"] });
  }
  mounts.push(...rest);
  return user.rootfsPropagation === undefined ? { mounts } : { mounts, rootfsPropagation: user.rootfsPropagation };
}

/**
 * A request's own profile must compile as berth-runc compiles it (errno values past 65535, more
 * BPF instructions than the kernel takes, ...), so a bad one is refused at create, not in the runtime.
 */
function checkCompiles(seccomp: Seccomp, goArch: string): void {
  const native = SECCOMP_ARCH_OF_GO[goArch];
  try {
    compileSeccomp(seccomp, native === undefined ? {} : { nativeArch: native });
  } catch (err) {
    throw new InvalidArgumentError(
      `Decoding seccomp profile failed: ${errorMessage(err).replace(/^config\.json: /, "")}`,
    );
  }
}

/** docker's masked and read-only /proc and /sys paths. */
export const MASKED_PATHS: readonly string[] = Object.freeze([
  "/proc/asound",
  "/proc/acpi",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/proc/scsi",
  "/sys/firmware",
]);
export const READONLY_PATHS: readonly string[] = Object.freeze([
  "/proc/bus",
  "/proc/fs",
  "/proc/irq",
  "/proc/sys",
  "/proc/sysrq-trigger",
]);

export function buildSpec(input: SpecInput): BuiltSpec {
  const h = input.hostConfig;
  const security = checkCreate(input.config, h, input.host, input.daemonRoot);
  const warnings = [...security.warnings];
  const config = mergeConfig(input.config, input.image);
  const modes = parseModes(h, input.host.cgroupVersion);

  const user = resolveUser(config.User, h.GroupAdd, input.users);
  const caps = capabilityList({
    capAdd: h.CapAdd,
    capDrop: h.CapDrop,
    privileged: h.Privileged,
    lastCap: input.host.lastCap,
  });
  let args = processArgs({ entrypoint: config.Entrypoint ?? [], cmd: config.Cmd ?? [] });
  if (h.Init === true) args = [INIT_PATH, "--", ...args];

  const spec: Spec = {
    ociVersion: SPEC_OCI_VERSION,
    process: {
      user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids },
      args,
      env: processEnv(config.Env, input.hostname, config.Tty),
      cwd: workingDir(config.WorkingDir, {}),
      // A process that is not root keeps the bounding set only, as dockerd does it.
      capabilities:
        user.uid === 0 ? { bounding: [...caps], effective: [...caps], permitted: [...caps] } : { bounding: [...caps] },
    },
    root: { path: input.rootfs },
  };
  const proc = spec.process!;
  if (config.Tty) proc.terminal = true;
  if (h.Ulimits.length > 0) proc.rlimits = rlimitsFor(h);
  if (security.noNewPrivileges) proc.noNewPrivileges = true;
  if (h.OomScoreAdj !== 0) proc.oomScoreAdj = h.OomScoreAdj;
  if (h.ReadonlyRootfs) spec.root!.readonly = true;
  if (modes.uts === "private" && input.hostname !== "") spec.hostname = input.hostname;

  const { mounts, rootfsPropagation } = mountsFor(input, modes);
  spec.mounts = mounts;

  const devices = devicesFor(h.Privileged, input.devices ?? [], input.hostDevices ?? []);
  const resources = resourcesFor(h, input.host);
  resources.devices = devices.rules;
  if (input.host.swapLimit === false && (h.MemorySwap > 0 || (h.MemorySwap === 0 && h.Memory > 0))) {
    warnings.push(
      "Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.",
    );
  }
  if (h.OomKillDisable === true && input.host.cgroupVersion === 2) {
    warnings.push("OomKillDisable has no effect on cgroup v2");
  }
  // dockerd sets the domain name as a sysctl, not as the spec's domainname.
  const sysctl = sysctlsFor(h.Sysctls, modes);
  if (config.Domainname !== "" && modes.uts === "private") sysctl["kernel.domainname"] = config.Domainname;
  spec.linux = {
    sysctl,
    resources,
    namespaces: namespacesFor(modes, h, input.joins ?? {}),
  };
  const linux = spec.linux;
  if (input.cgroupsPath !== undefined) linux.cgroupsPath = input.cgroupsPath;
  if (devices.nodes.length > 0) linux.devices = devices.nodes;
  if (rootfsPropagation !== undefined) linux.rootfsPropagation = rootfsPropagation;
  if (!h.Privileged) {
    if (security.seccomp !== "unconfined") {
      const profile = security.seccomp === "default" ? DEFAULT_SECCOMP_PROFILE : security.seccomp;
      linux.seccomp = seccompFor(profile, { capabilities: caps, goArch: input.host.goArch, kernel: input.host.kernel });
      if (security.seccomp !== "default") checkCompiles(linux.seccomp, input.host.goArch);
    }
    linux.maskedPaths = [...MASKED_PATHS];
    linux.readonlyPaths = [...READONLY_PATHS];
  }
  const volumes = Object.keys(config.Volumes);
  if (volumes.length > 0) {
    warnings.push(
      `volumes are not supported yet: ${volumes.join(", ")} stay${volumes.length === 1 ? "s" : ""} in the container's writable layer`,
    );
  }
  return { spec, warnings };
}

/** JSON.rawJSON (Node 21+; not yet in TypeScript's lib): a value written as this exact JSON text. */
const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

/** config.json text: like JSON.stringify, but a 64-bit rlimit (RLIM_INFINITY) is written exactly. */
export function specJson(spec: Spec, indent?: number | string): string {
  return JSON.stringify(
    spec,
    (_key, value: unknown) => (typeof value === "bigint" ? rawJSON(value.toString()) : value),
    indent,
  );
}
