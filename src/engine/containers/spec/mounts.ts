// A container's mounts: the default ones every docker container gets, the request's Binds,
// Mounts and Tmpfs turned into runtime-spec mounts with dockerd's options, and the order dockerd
// writes them in. Pure: that a bind's source exists, or that a shared propagation needs a shared
// source, is the daemon's business when it creates the container.
import { InvalidArgumentError } from "../../../common/errors.ts";
import type { Mount } from "../../../runc/config/types.ts";
import type { HostConfig, MountSpec, Propagation } from "./types.ts";

/** /dev/shm's size when ShmSize is 0 (dockerd's default, 64 MiB). */
export const DEFAULT_SHM_SIZE = 67_108_864;

/** Where --init's binary goes inside the container. */
export const INIT_PATH = "/sbin/docker-init";

/** The default propagation of a bind mount (dockerd's). */
const DEFAULT_PROPAGATION: Propagation = "rprivate";

/** The mounts every container gets, in dockerd's order; /sys and cgroup writable only when privileged. */
export function defaultMounts(opts: { privileged: boolean; shmSize: number; privateShm: boolean }): Mount[] {
  const ro = opts.privileged ? [] : ["ro"];
  const mounts: Mount[] = [
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
    { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", ...ro] },
    { destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: [...ro, "nosuid", "noexec", "nodev"] },
    { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
  ];
  if (opts.privateShm) {
    mounts.push({
      destination: "/dev/shm",
      type: "tmpfs",
      source: "shm",
      options: ["nosuid", "noexec", "nodev", "mode=1777", `size=${opts.shmSize}`],
    });
  }
  return mounts;
}

const invalidSpec = (raw: string, why?: string) =>
  new InvalidArgumentError(`invalid volume specification: '${raw}'${why === undefined ? "" : `: ${why}`}`);

const invalidMount = (type: string, why: string) =>
  new InvalidArgumentError(`invalid mount config for type ${JSON.stringify(type)}: ${why}`);

const PROPAGATIONS = new Set<string>(["private", "rprivate", "shared", "rshared", "slave", "rslave"]);

/** A Binds mode ("ro,z,rshared"): at most one of each kind, as docker's volume parser says. */
function parseMode(mode: string): { readOnly: boolean; propagation?: Propagation } | undefined {
  let rw = 0;
  let label = 0;
  let prop = 0;
  let copy = 0;
  let readOnly = false;
  let propagation: Propagation | undefined;
  if (mode === "") return { readOnly };
  for (const o of mode.split(",")) {
    if (o === "rw" || o === "ro") {
      rw++;
      readOnly = o === "ro";
    } else if (o === "z" || o === "Z") label++;
    else if (PROPAGATIONS.has(o)) {
      prop++;
      propagation = o as Propagation;
    } else if (o === "nocopy") copy++;
    else return undefined;
  }
  if (rw > 1 || label > 1 || prop > 1 || copy > 1) return undefined;
  return propagation === undefined ? { readOnly } : { readOnly, propagation };
}

function checkTarget(type: string, target: string, raw?: string): void {
  const wrap = (why: string) =>
    raw === undefined ? invalidMount(type, why) : invalidSpec(raw, invalidMount(type, why).message);
  if (target === "") throw wrap("field Target must not be empty");
  if (!target.startsWith("/")) throw wrap(`invalid mount path: '${target}' mount path must be absolute`);
  if (cleanPath(target) === "/") throw wrap("invalid specification: destination can't be '/'");
}

const volumesNotSupported = (what: string, named: boolean) =>
  new InvalidArgumentError(
    `${what}: ${named ? "named" : "anonymous"} volumes are not supported yet (use a bind mount or tmpfs)`,
  );

/** One entry of HostConfig.Binds ("/host:/ctr[:mode]") as a MountSpec; volumes refused for now. */
export function parseBind(raw: string): MountSpec {
  if ((raw.match(/:/g) ?? []).length > 2) throw invalidSpec(raw);
  const arr = raw.split(":");
  if (arr[0] === "") throw invalidSpec(raw);
  let source = "";
  let target: string;
  let mode = "";
  if (arr.length === 1) target = arr[0]!;
  else if (arr.length === 2) {
    if (parseMode(arr[1]!) !== undefined) throw invalidSpec(raw);
    [source, target] = [arr[0]!, arr[1]!];
  } else [source, target, mode] = [arr[0]!, arr[1]!, arr[2]!];
  const parsed = parseMode(mode);
  if (parsed === undefined) throw new InvalidArgumentError(`invalid mode: ${mode}`);
  const type = source.startsWith("/") ? "bind" : "volume";
  checkTarget(type, target, raw);
  if (type === "volume") throw volumesNotSupported(`invalid volume specification: '${raw}'`, source !== "");
  const m: MountSpec = { Type: "bind", Source: source, Target: target, ReadOnly: parsed.readOnly };
  if (parsed.propagation !== undefined) m.BindOptions = { Propagation: parsed.propagation };
  return m;
}

/** One entry of HostConfig.Mounts checked as dockerd checks it (the source's existence aside). */
export function checkMountSpec(m: MountSpec): void {
  if (m.Type === "volume") throw volumesNotSupported(`invalid mount config for type "volume"`, m.Source !== "");
  checkTarget(m.Type, m.Target);
  if (m.Type === "bind") {
    if (m.Source === "") throw invalidMount("bind", "field Source must not be empty");
    if (!m.Source.startsWith("/"))
      throw invalidMount("bind", `invalid mount path: '${m.Source}' mount path must be absolute`);
  } else if (m.Source !== "") throw invalidMount("tmpfs", "field Source must not be specified");
}

/** filepath.Clean for absolute paths. */
export function cleanPath(p: string): string {
  const out: string[] = [];
  for (const c of p.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") out.pop();
    else out.push(c);
  }
  return `/${out.join("/")}`;
}

/** A bind mount as dockerd writes it: rbind (bind when non-recursive), ro, the propagation. */
function bindMount(m: MountSpec): Mount {
  const options = [m.BindOptions?.NonRecursive === true ? "bind" : "rbind"];
  if (m.ReadOnly) options.push("ro");
  options.push(m.BindOptions?.Propagation ?? DEFAULT_PROPAGATION);
  return { destination: cleanPath(m.Target), type: "bind", source: m.Source, options };
}

/** Mount flags that tmpfs options may carry; the key groups the ones that undo each other. */
const TMPFS_FLAGS: Readonly<Record<string, string>> = {
  ro: "rdonly",
  rw: "rdonly",
  suid: "nosuid",
  nosuid: "nosuid",
  dev: "nodev",
  nodev: "nodev",
  exec: "noexec",
  noexec: "noexec",
  sync: "sync",
  async: "sync",
  dirsync: "dirsync",
  remount: "remount",
  mand: "mand",
  nomand: "mand",
  atime: "noatime",
  noatime: "noatime",
  diratime: "nodiratime",
  nodiratime: "nodiratime",
  bind: "bind",
  rbind: "rbind",
  relatime: "relatime",
  norelatime: "relatime",
  strictatime: "strictatime",
  nostrictatime: "strictatime",
  unbindable: "propagation",
  runbindable: "propagation",
  private: "propagation",
  rprivate: "propagation",
  shared: "propagation",
  rshared: "propagation",
  slave: "propagation",
  rslave: "propagation",
};
const TMPFS_DATA = new Set(["size", "mode", "uid", "gid", "nr_inodes", "nr_blocks", "mpol"]);

/**
 * tmpfs options merged as dockerd merges them: later options win over earlier ones of the same
 * kind (so "exec" undoes the default "noexec"), "defaults" is dropped, and only tmpfs's own data
 * options (size, mode, uid, gid, nr_inodes, nr_blocks, mpol) are accepted.
 */
export function mergeTmpfsOptions(options: readonly string[]): string[] {
  const seenFlags = new Set<string>();
  const seenData = new Set<string>();
  const out: string[] = [];
  for (let i = options.length - 1; i >= 0; i--) {
    const o = options[i]!;
    if (o === "defaults") continue;
    const flag = Object.hasOwn(TMPFS_FLAGS, o) ? TMPFS_FLAGS[o] : undefined;
    if (flag !== undefined) {
      if (!seenFlags.has(flag)) {
        seenFlags.add(flag);
        out.unshift(o);
      }
      continue;
    }
    const eq = o.indexOf("=");
    if (eq < 0 || !TMPFS_DATA.has(o.slice(0, eq))) {
      throw new InvalidArgumentError(
        `Invalid tmpfs option ${JSON.stringify(eq < 0 ? [o] : [o.slice(0, eq), o.slice(eq + 1)])}`,
      );
    }
    const key = o.slice(0, eq);
    if (!seenData.has(key)) {
      seenData.add(key);
      out.unshift(o);
    }
  }
  return out;
}

/** A tmpfs mount at `target` with `data` ("size=1m,exec") over dockerd's defaults. */
function tmpfsMount(target: string, data: string): Mount {
  const options = ["noexec", "nosuid", "nodev", DEFAULT_PROPAGATION, ...(data === "" ? [] : data.split(","))];
  return { destination: cleanPath(target), type: "tmpfs", source: "tmpfs", options: mergeTmpfsOptions(options) };
}

/** Mounts' TmpfsOptions as the data string dockerd makes of them (the size in the largest exact unit). */
export function tmpfsData(m: MountSpec): string {
  const raw: string[] = [];
  if (m.ReadOnly) raw.push("ro");
  const mode = m.TmpfsOptions?.Mode ?? 0;
  if (mode !== 0) raw.push(`mode=${mode.toString(8)}`);
  const size = m.TmpfsOptions?.SizeBytes ?? 0;
  if (size !== 0) {
    const unit = (
      [
        ["g", 2 ** 30],
        ["m", 2 ** 20],
        ["k", 2 ** 10],
      ] as const
    ).find(([, d]) => size % d === 0);
    raw.push(unit === undefined ? `size=${size}` : `size=${size / unit[1]}${unit[0]}`);
  }
  return raw.join(",");
}

/**
 * dockerd's rule for a bind of its own root or of a directory above it: without a propagation it
 * becomes rslave (so the container does not pin mounts the daemon removes later); a propagation
 * other than rslave or rshared is refused. True when the bind becomes rslave.
 */
export function daemonRootBind(m: MountSpec, daemonRoot: string | undefined): boolean {
  if (daemonRoot === undefined || m.Type !== "bind") return false;
  if (!m.Source.startsWith(daemonRoot) && !daemonRoot.startsWith(m.Source)) return false;
  const prop = m.BindOptions?.Propagation;
  if (prop === undefined) return true;
  if (prop === "rslave" || prop === "rshared") return false;
  throw new InvalidArgumentError(
    `invalid mount config: must use either propagation mode "rslave" or "rshared" when mount source is within the daemon root, daemon root: ${JSON.stringify(daemonRoot)}, bind mount source: ${JSON.stringify(m.Source)}, propagation: ${JSON.stringify(prop)}`,
  );
}

export interface UserMounts {
  mounts: Mount[];
  /** linux.rootfsPropagation a propagation the request asked for needs: shared, else rslave. */
  rootfsPropagation?: string;
}

/** The request's own mounts (Binds, then Mounts, then Tmpfs), checked, as dockerd writes them. */
export function userMounts(host: Pick<HostConfig, "Binds" | "Mounts" | "Tmpfs">, daemonRoot?: string): UserMounts {
  const seen = new Set<string>();
  const claim = (target: string) => {
    const t = cleanPath(target);
    if (seen.has(t)) throw new InvalidArgumentError(`Duplicate mount point: ${t}`);
    seen.add(t);
  };
  const out: Mount[] = [];
  let rootfsPropagation: string | undefined;
  const bind = (m: MountSpec) => {
    if (daemonRootBind(m, daemonRoot)) {
      out.push(bindMount({ ...m, BindOptions: { ...m.BindOptions, Propagation: "rslave" } }));
      return;
    }
    const prop = m.BindOptions?.Propagation;
    if (prop === "shared" || prop === "rshared") rootfsPropagation = "shared";
    else if ((prop === "slave" || prop === "rslave") && rootfsPropagation === undefined) rootfsPropagation = "rslave";
    out.push(bindMount(m));
  };
  for (const raw of host.Binds) {
    const m = parseBind(raw);
    claim(m.Target);
    bind(m);
  }
  // dockerd's groups: binds (Binds, then Mounts), then tmpfs (Tmpfs, then Mounts); sorted by depth later.
  for (const m of host.Mounts) {
    checkMountSpec(m);
    claim(m.Target);
    if (m.Type === "bind") bind(m);
  }
  for (const [target, data] of Object.entries(host.Tmpfs)) {
    if (!target.startsWith("/")) {
      throw new InvalidArgumentError(`invalid mount path: '${target}' mount path must be absolute`);
    }
    claim(target);
    out.push(tmpfsMount(target, data));
  }
  for (const m of host.Mounts) {
    if (m.Type === "tmpfs") out.push(tmpfsMount(m.Target, tmpfsData(m)));
  }
  return rootfsPropagation === undefined ? { mounts: out } : { mounts: out, rootfsPropagation };
}

const depth = (m: Mount) => (m.destination.match(/\//g) ?? []).length;

/** Mounts sorted by the depth of their target, stable (a parent before what is mounted inside it). */
export function sortByDepth(mounts: readonly Mount[]): Mount[] {
  return mounts
    .map((m, i) => ({ m, i }))
    .sort((a, b) => depth(a.m) - depth(b.m) || a.i - b.i)
    .map(({ m }) => m);
}

/**
 * The defaults without those the request replaces: one at the same target, and everything under
 * /dev when /dev itself is mounted by the request.
 */
export function keptDefaults(defaults: readonly Mount[], user: readonly Mount[]): Mount[] {
  const targets = new Set(user.map((m) => m.destination));
  const dev = targets.has("/dev");
  return defaults.filter((m) => !targets.has(m.destination) && !(dev && m.destination.startsWith("/dev/")));
}
