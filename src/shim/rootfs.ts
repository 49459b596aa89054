// The task's rootfs: the snapshot's mounts put on bundle/rootfs with mount(2) through the addon
// (mount(8) costs a process start per task). The options are split here, as mount(8) splits them:
// flag words become MS_* bits, the rest is the filesystem's data string. Anything this does not
// know (a long overlay lowerdir that needs mount(8)'s relative-path trick, an unknown option
// shape) goes to mount(8) as before.

import type { Mount } from "../common/mount/mount.ts";
import { mountAll, mountCommand, mountsOn, unmountAll } from "../common/mount/mounter.ts";
import { shimSys } from "../common/sys.ts";

const MS_RDONLY = 0x1;
const MS_NOSUID = 0x2;
const MS_NODEV = 0x4;
const MS_NOEXEC = 0x8;
const MS_REMOUNT = 0x20;
const MS_NOATIME = 0x400;
const MS_NODIRATIME = 0x800;
const MS_BIND = 0x1000;
const MS_REC = 0x4000;
const MS_RELATIME = 0x200000;
const MNT_DETACH = 0x2;

const SET: Record<string, number> = {
  ro: MS_RDONLY,
  nosuid: MS_NOSUID,
  nodev: MS_NODEV,
  noexec: MS_NOEXEC,
  noatime: MS_NOATIME,
  nodiratime: MS_NODIRATIME,
  relatime: MS_RELATIME,
  bind: MS_BIND,
  rbind: MS_BIND | MS_REC,
};
const CLEAR = new Set(["rw", "suid", "dev", "exec", "atime", "diratime", "defaults"]);

export interface MountCall {
  source: string;
  fstype: string;
  flags: number;
  data: string;
  /** A read-only bind needs a second, remounting call. */
  remountReadOnly: boolean;
}

/** A mount as mount(2) arguments. Pure. */
export function mountCall(m: Mount): MountCall {
  let flags = 0;
  const data: string[] = [];
  for (const o of m.options) {
    if (o in SET) flags |= SET[o]!;
    else if (!CLEAR.has(o)) data.push(o);
  }
  const bind = (flags & MS_BIND) !== 0 || m.type === "bind";
  if (bind) flags |= MS_BIND;
  return {
    source: m.source,
    fstype: bind ? "" : m.type,
    flags: bind ? flags & ~MS_RDONLY : flags,
    data: data.join(","),
    remountReadOnly: bind && (flags & MS_RDONLY) !== 0,
  };
}

/** Mounts `mounts` on `target`, in order. */
export async function mountRootfs(mounts: Mount[], target: string): Promise<void> {
  const direct = mounts.every((m) => mountCommand(m).cwd === undefined);
  if (!direct) return mountAll(mounts, target);
  let done = 0;
  try {
    for (const m of mounts) {
      const c = mountCall(m);
      shimSys().mount(c.source, target, c.fstype, c.flags, c.data);
      done++;
      if (c.remountReadOnly) shimSys().mount("", target, "", MS_REMOUNT | MS_BIND | MS_RDONLY, "");
    }
  } catch (err) {
    for (; done > 0; done--) {
      try {
        shimSys().umount(target, MNT_DETACH);
      } catch {}
    }
    throw err;
  }
}

/** Takes the rootfs down: one umount per mount; mount(8)'s recursive way if anything is left. */
export async function unmountRootfs(target: string, count: number): Promise<void> {
  try {
    for (let i = 0; i < count; i++) shimSys().umount(target, 0);
  } catch {
    // Busy, or mounted some other way: mount(8)'s recursive unmount below.
  }
  if ((await mountsOn(target)) > 0) await unmountAll(target);
}
