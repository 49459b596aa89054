// The image's /etc/passwd and /etc/group, read from a container's rootfs on the host without ever
// leaving it: readFileInRoot resolves every symlink inside the rootfs (an absolute link starts
// again at the rootfs, ".." stops there), opens only regular files, and reads at most
// MAX_USER_FILE_BYTES. So /etc/passwd -> /etc/shadow names the image's shadow, never the host's;
// a FIFO, a device or a huge file is not read, and counts as missing (names then fail to resolve,
// numeric ids still work, no supplementary group is added).
import { readFileInRoot } from "../../../common/in-root.ts";
import { type GroupEntry, type PasswdEntry, parseGroup, parsePasswd, type UserDb } from "./user.ts";

/** An image's passwd or group file bigger than this is not read (the same bound berth-runc uses). */
export const MAX_USER_FILE_BYTES = 1_048_576;

function readText(rootfs: string, path: string): string {
  return readFileInRoot(rootfs, path, { maxBytes: MAX_USER_FILE_BYTES })?.toString("utf8") ?? "";
}

/** The user database of the rootfs at `rootfs`; each file is read once, when first asked for. */
export function rootfsUserDb(rootfs: string): UserDb {
  let passwd: PasswdEntry[] | undefined;
  let groups: GroupEntry[] | undefined;
  return {
    passwd: () => {
      passwd ??= parsePasswd(readText(rootfs, "/etc/passwd"));
      return passwd;
    },
    groups: () => {
      groups ??= parseGroup(readText(rootfs, "/etc/group"));
      return groups;
    },
  };
}
