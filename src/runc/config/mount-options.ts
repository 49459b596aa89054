// Pure parser of a mount's `options` into what mount(2) and mount_setattr(2) take. The vocabulary
// follows runc's (and the runtime-spec's table); anything else is a filesystem-specific option
// and goes, in order, into the data string, as the runtime-spec asks.

// mount(2) flags (include/uapi/linux/mount.h).
export const MS_RDONLY = 0x1;
export const MS_NOSUID = 0x2;
export const MS_NODEV = 0x4;
export const MS_NOEXEC = 0x8;
export const MS_SYNCHRONOUS = 0x10;
export const MS_REMOUNT = 0x20;
export const MS_MANDLOCK = 0x40;
export const MS_DIRSYNC = 0x80;
export const MS_NOSYMFOLLOW = 0x100;
export const MS_NOATIME = 0x400;
export const MS_NODIRATIME = 0x800;
export const MS_BIND = 0x1000;
export const MS_MOVE = 0x2000;
export const MS_REC = 0x4000;
export const MS_SILENT = 0x8000;
export const MS_POSIXACL = 0x10000;
export const MS_UNBINDABLE = 0x20000;
export const MS_PRIVATE = 0x40000;
export const MS_SLAVE = 0x80000;
export const MS_SHARED = 0x100000;
export const MS_RELATIME = 0x200000;
export const MS_I_VERSION = 0x800000;
export const MS_STRICTATIME = 0x1000000;
export const MS_LAZYTIME = 0x2000000;

// mount_setattr(2) attributes.
export const MOUNT_ATTR_RDONLY = 0x1;
export const MOUNT_ATTR_NOSUID = 0x2;
export const MOUNT_ATTR_NODEV = 0x4;
export const MOUNT_ATTR_NOEXEC = 0x8;
export const MOUNT_ATTR__ATIME = 0x70;
export const MOUNT_ATTR_RELATIME = 0x0;
export const MOUNT_ATTR_NOATIME = 0x10;
export const MOUNT_ATTR_STRICTATIME = 0x20;
export const MOUNT_ATTR_NODIRATIME = 0x80;
export const MOUNT_ATTR_IDMAP = 0x100000;
export const MOUNT_ATTR_NOSYMFOLLOW = 0x200000;

/** Options that are not kernel flags but change how the runtime performs the mount. */
export type MountExtension = "tmpcopyup" | "idmap" | "ridmap";

export interface ParsedMountOptions {
  /** MS_* flags to pass to mount(2). */
  flags: number;
  /** MS_* flags the options explicitly turned off (matters for remounts of bind mounts). */
  clearFlags: number;
  /** Propagation changes (MS_SHARED|MS_REC ...), each applied by its own mount(2) call afterwards. */
  propagation: number[];
  /** Filesystem-specific options, comma-joined, for mount(2)'s data argument. */
  data: string;
  /** `bind` or `rbind` was given. */
  bind: boolean;
  /** `rbind` was given (MS_REC is then also in flags). */
  recursive: boolean;
  /** MOUNT_ATTR_* to set / clear with mount_setattr(AT_RECURSIVE) (the r* options). */
  recAttrSet: number;
  recAttrClr: number;
  extensions: MountExtension[];
}

// [clear?, flag]: a "clear" option removes a flag a previous option (or the default) may set.
const FLAG_OPTIONS: Readonly<Record<string, readonly [boolean, number]>> = {
  async: [true, MS_SYNCHRONOUS],
  atime: [true, MS_NOATIME],
  bind: [false, MS_BIND],
  dev: [true, MS_NODEV],
  diratime: [true, MS_NODIRATIME],
  dirsync: [false, MS_DIRSYNC],
  exec: [true, MS_NOEXEC],
  iversion: [false, MS_I_VERSION],
  lazytime: [false, MS_LAZYTIME],
  loud: [true, MS_SILENT],
  mand: [false, MS_MANDLOCK],
  noatime: [false, MS_NOATIME],
  nodev: [false, MS_NODEV],
  nodiratime: [false, MS_NODIRATIME],
  noexec: [false, MS_NOEXEC],
  noiversion: [true, MS_I_VERSION],
  nolazytime: [true, MS_LAZYTIME],
  nomand: [true, MS_MANDLOCK],
  norelatime: [true, MS_RELATIME],
  nostrictatime: [true, MS_STRICTATIME],
  nosuid: [false, MS_NOSUID],
  nosymfollow: [false, MS_NOSYMFOLLOW],
  rbind: [false, MS_BIND | MS_REC],
  relatime: [false, MS_RELATIME],
  remount: [false, MS_REMOUNT],
  ro: [false, MS_RDONLY],
  rw: [true, MS_RDONLY],
  silent: [false, MS_SILENT],
  strictatime: [false, MS_STRICTATIME],
  suid: [true, MS_NOSUID],
  symfollow: [true, MS_NOSYMFOLLOW],
  sync: [false, MS_SYNCHRONOUS],
};

const PROPAGATION_OPTIONS: Readonly<Record<string, number>> = {
  private: MS_PRIVATE,
  rprivate: MS_PRIVATE | MS_REC,
  shared: MS_SHARED,
  rshared: MS_SHARED | MS_REC,
  slave: MS_SLAVE,
  rslave: MS_SLAVE | MS_REC,
  unbindable: MS_UNBINDABLE,
  runbindable: MS_UNBINDABLE | MS_REC,
};

const REC_ATTR_OPTIONS: Readonly<Record<string, readonly [boolean, number]>> = {
  rro: [false, MOUNT_ATTR_RDONLY],
  rrw: [true, MOUNT_ATTR_RDONLY],
  rnosuid: [false, MOUNT_ATTR_NOSUID],
  rsuid: [true, MOUNT_ATTR_NOSUID],
  rnodev: [false, MOUNT_ATTR_NODEV],
  rdev: [true, MOUNT_ATTR_NODEV],
  rnoexec: [false, MOUNT_ATTR_NOEXEC],
  rexec: [true, MOUNT_ATTR_NOEXEC],
  rnodiratime: [false, MOUNT_ATTR_NODIRATIME],
  rdiratime: [true, MOUNT_ATTR_NODIRATIME],
  rrelatime: [false, MOUNT_ATTR_RELATIME],
  rnorelatime: [true, MOUNT_ATTR_RELATIME],
  rnoatime: [false, MOUNT_ATTR_NOATIME],
  ratime: [true, MOUNT_ATTR_NOATIME],
  rstrictatime: [false, MOUNT_ATTR_STRICTATIME],
  rnostrictatime: [true, MOUNT_ATTR_STRICTATIME],
  rnosymfollow: [false, MOUNT_ATTR_NOSYMFOLLOW],
  rsymfollow: [true, MOUNT_ATTR_NOSYMFOLLOW],
};

// The access-time attributes form one field in mount_setattr(2), so they are tracked apart.
const ATIME_OPTIONS = new Set(["rrelatime", "rnorelatime", "rnoatime", "ratime", "rstrictatime", "rnostrictatime"]);

const EXTENSIONS: ReadonlySet<string> = new Set<MountExtension>(["tmpcopyup", "idmap", "ridmap"]);

/**
 * Every option name the parser recognises (sorted), for the `features` document. `defaults` is a
 * no-op here: runc forwards it to data, where most filesystems would reject it.
 */
export const KNOWN_MOUNT_OPTIONS: readonly string[] = Object.freeze(
  [
    "defaults",
    ...Object.keys(FLAG_OPTIONS),
    ...Object.keys(PROPAGATION_OPTIONS),
    ...Object.keys(REC_ATTR_OPTIONS),
    ...EXTENSIONS,
  ].sort(),
);

export function isKnownMountOption(option: string): boolean {
  return (
    option === "defaults" ||
    Object.hasOwn(FLAG_OPTIONS, option) ||
    Object.hasOwn(PROPAGATION_OPTIONS, option) ||
    Object.hasOwn(REC_ATTR_OPTIONS, option) ||
    EXTENSIONS.has(option)
  );
}

export function parseMountOptions(options: readonly string[] | undefined): ParsedMountOptions {
  let flags = 0;
  let clearFlags = 0;
  const propagation: number[] = [];
  const data: string[] = [];
  let recAttrSet = 0;
  let recAttrClr = 0;
  const extensions: MountExtension[] = [];

  for (const option of options ?? []) {
    if (option === "defaults") continue;
    const flag = FLAG_OPTIONS[option];
    if (flag !== undefined && Object.hasOwn(FLAG_OPTIONS, option)) {
      const [clear, bits] = flag;
      if (clear) {
        flags &= ~bits;
        clearFlags |= bits;
      } else {
        flags |= bits;
        clearFlags &= ~bits;
      }
      continue;
    }
    if (Object.hasOwn(PROPAGATION_OPTIONS, option)) {
      propagation.push(PROPAGATION_OPTIONS[option]!);
      continue;
    }
    if (Object.hasOwn(REC_ATTR_OPTIONS, option)) {
      const [clear, bits] = REC_ATTR_OPTIONS[option]!;
      if (ATIME_OPTIONS.has(option)) {
        // The kernel wants the whole atime field cleared whenever one value is set; clearing a
        // value means "back to the default", which is relatime (0).
        recAttrSet &= ~MOUNT_ATTR__ATIME;
        recAttrClr |= MOUNT_ATTR__ATIME;
        if (!clear) recAttrSet |= bits;
      } else if (clear) {
        recAttrClr |= bits;
        recAttrSet &= ~bits;
      } else {
        recAttrSet |= bits;
        recAttrClr &= ~bits;
      }
      continue;
    }
    if (EXTENSIONS.has(option)) {
      if (!extensions.includes(option as MountExtension)) extensions.push(option as MountExtension);
      continue;
    }
    data.push(option);
  }

  return {
    flags,
    clearFlags,
    propagation,
    data: data.join(","),
    bind: (flags & MS_BIND) !== 0,
    recursive: (flags & (MS_BIND | MS_REC)) === (MS_BIND | MS_REC),
    recAttrSet,
    recAttrClr,
    extensions,
  };
}
