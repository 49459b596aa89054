// The task's rootfs: the snapshot's mounts put on bundle/rootfs with mount(2) through the addon
// (mount(8) costs a process start per task). The options are split here, as mount(8) splits them
// (runc/config/mount-options.ts, the runtime's own reading of mount options): flag words become
// MS_* bits, the rest is the filesystem's data string. Anything this does not
// know (a long overlay lowerdir that needs mount(8)'s relative-path trick, an unknown option
// shape) goes to mount(8) as before.

import type { Mount } from "../common/mount/mount.ts";
import { mountAll, mountCommand, mountsOn, unmountAll } from "../common/mount/mounter.ts";
import { shimSys } from "../common/sys.ts";
import { MS_BIND, MS_RDONLY, MS_REMOUNT, parseMountOptions } from "../runc/config/mount-options.ts";

const MNT_DETACH = 0x2;

export interface MountCall {
  source: string;
  fstype: string;
  flags: number;
  data: string;
  /** A read-only bind needs a second, remounting call. */
  remountReadOnly: boolean;
}

/**
 * A mount as mount(2) arguments, its options read as runc reads a config.json's (later words win:
 * "nosuid,suid" is suid); undefined when one call cannot make it (propagation, recursive
 * attributes, runtime extensions): mount(8) then does. Pure.
 */
export function mountCall(m: Mount): MountCall | undefined {
  const o = parseMountOptions(m.options);
  if (o.propagation.length > 0 || o.recAttrSet !== 0 || o.recAttrClr !== 0 || o.extensions.length > 0) return undefined;
  const bind = o.bind || m.type === "bind";
  const flags = bind ? o.flags | MS_BIND : o.flags;
  return {
    source: m.source,
    fstype: bind ? "" : m.type,
    flags: bind ? flags & ~MS_RDONLY : flags,
    data: o.data,
    remountReadOnly: bind && (flags & MS_RDONLY) !== 0,
  };
}

/** Mounts `mounts` on `target`, in order. */
export async function mountRootfs(mounts: Mount[], target: string): Promise<void> {
  const calls = mounts.map((m) => (mountCommand(m).cwd === undefined ? mountCall(m) : undefined));
  if (!calls.every((c) => c !== undefined)) return mountAll(mounts, target);
  let done = 0;
  try {
    for (const c of calls) {
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
