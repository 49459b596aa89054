// Who an exec runs as when it names a user: resolved as the container's create was, against the
// container's own /etc/passwd and /etc/group (rootfsUserDb reads them without leaving the root),
// with the container's GroupAdd. The container's snapshot is mounted for the look-up as a
// read-only view whose writable layer is the top lower layer: the running container keeps its
// upper directory to itself (overlayfs warns of, and may refuse, one upper in two mounts), and
// what the container changed in /etc/passwd is seen.
import type { ContainerdConnection } from "../../client/connection.ts";
import type { Mount } from "../../common/mount/mount.ts";
import { withTempMount } from "../../common/mount/mounter.ts";
import { type ResolvedUser, resolveUser } from "../containers/spec/user.ts";
import { rootfsUserDb } from "../containers/spec/user-db.ts";

/** The snapshot's mounts as a read-only view: an overlay's upper directory becomes its top lower. Pure. */
export function readOnlyView(mounts: readonly Mount[]): Mount[] {
  return mounts.map((m) => {
    if (m.type !== "overlay") return { ...m, options: [...m.options.filter((o) => o !== "rw"), "ro"] };
    const upper = m.options.find((o) => o.startsWith("upperdir="))?.slice("upperdir=".length);
    const lower = m.options.find((o) => o.startsWith("lowerdir="))?.slice("lowerdir=".length);
    const rest = m.options.filter((o) => !/^(upperdir|workdir|lowerdir)=/.test(o) && o !== "rw" && o !== "ro");
    const lowers = [upper, lower].filter((d): d is string => d !== undefined && d !== "");
    // An overlay without an upper directory needs two lower ones: one alone is bound instead.
    if (lowers.length === 1) return { type: "bind", source: lowers[0]!, options: ["rbind", "ro"] };
    return { ...m, options: [...rest, `lowerdir=${lowers.join(":")}`, "ro"] };
  });
}

/** `user` ("name|uid[:name|gid]") resolved in container `id`'s root. */
export async function resolveExecUser(
  conn: ContainerdConnection,
  id: string,
  user: string,
  groupAdd: readonly string[],
): Promise<ResolvedUser> {
  const mounts = readOnlyView(await conn.snapshots().mounts(id));
  return withTempMount(mounts, true, async (root) => resolveUser(user, groupAdd, rootfsUserDb(root)));
}
