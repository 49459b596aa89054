// Who the container's process runs as: Config.User ("name|uid[:name|gid]") and HostConfig.GroupAdd
// resolved against the image's /etc/passwd and /etc/group the way dockerd resolves them (through
// runc's user package): names must exist, numbers need not; without an explicit group the primary
// gid comes from passwd and the supplementary gids from the groups listing the user; the primary
// gid is always the first additional gid (dockerd's fix for CVE-2022-36109). Pure: the entries
// come from a UserDb (user-db.ts reads them from a rootfs without leaving it).
import { InvalidArgumentError } from "../../../common/errors.ts";

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/** The image's user database; a file that is missing (or cannot be read safely) gives no entries. */
export interface UserDb {
  passwd(): readonly PasswdEntry[];
  groups(): readonly GroupEntry[];
}

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  /** The passwd entry's home, "/" when there is none (runc's default). */
  home: string;
}

/** runc's id range: what setuid/setgid accept and a user namespace can map. */
export const MAX_ID = 2_147_483_647;

const NUMERIC = /^[0-9]+$/;

function numericId(s: string): number | undefined {
  if (!NUMERIC.test(s) || s.length > 10) return undefined;
  const n = Number(s);
  if (n > MAX_ID) throw new InvalidArgumentError("uids and gids must be in range 0-2147483647");
  return n;
}

/** One passwd(5) line's fields, or undefined for a line runc would skip. */
function passwdLine(line: string): PasswdEntry | undefined {
  const f = line.split(":");
  if (line === "" || line.startsWith("#") || f.length < 4) return undefined;
  const uid = Number.parseInt(f[2]!, 10);
  const gid = Number.parseInt(f[3]!, 10);
  return { name: f[0]!, uid: Number.isNaN(uid) ? 0 : uid, gid: Number.isNaN(gid) ? 0 : gid, home: f[5] ?? "" };
}

function groupLine(line: string): GroupEntry | undefined {
  const f = line.split(":");
  if (line === "" || line.startsWith("#") || f.length < 3) return undefined;
  const gid = Number.parseInt(f[2]!, 10);
  const members = (f[3] ?? "").split(",").filter((m) => m !== "");
  return { name: f[0]!, gid: Number.isNaN(gid) ? 0 : gid, members };
}

export function parsePasswd(text: string): PasswdEntry[] {
  return text.split("\n").flatMap((l) => passwdLine(l.trim()) ?? []);
}

export function parseGroup(text: string): GroupEntry[] {
  return text.split("\n").flatMap((l) => groupLine(l.trim()) ?? []);
}

/** Config.User (empty: root) and GroupAdd resolved as dockerd does. */
export function resolveUser(spec: string, groupAdd: readonly string[], db: UserDb): ResolvedUser {
  const colon = spec.indexOf(":");
  const userArg = colon === -1 ? spec : spec.slice(0, colon);
  const groupArg = colon === -1 ? "" : spec.slice(colon + 1);
  let uid = 0;
  let gid = 0;
  let home = "/";
  let name = "";
  if (userArg !== "") {
    const entry = db.passwd().find((p) => p.name === userArg || String(p.uid) === userArg);
    if (entry !== undefined) {
      ({ uid, gid, name } = entry);
      home = entry.home;
    } else {
      const n = numericId(userArg);
      if (n === undefined) {
        throw new InvalidArgumentError(`unable to find user ${userArg}: no matching entries in passwd file`);
      }
      uid = n;
    }
  } else {
    // No user named: root, with root's passwd entry when there is one.
    const root = db.passwd().find((p) => p.uid === 0);
    if (root !== undefined) {
      name = root.name;
      gid = root.gid;
      home = root.home;
    }
  }
  let supplementary: number[] = [];
  if (groupArg !== "") {
    const g = db.groups().find((e) => e.name === groupArg || String(e.gid) === groupArg);
    if (g !== undefined) gid = g.gid;
    else {
      const n = numericId(groupArg);
      if (n === undefined) {
        throw new InvalidArgumentError(`unable to find group ${groupArg}: no matching entries in group file`);
      }
      gid = n;
    }
  } else if (name !== "") {
    supplementary = db
      .groups()
      .filter((g) => g.members.includes(name))
      .map((g) => g.gid);
  }
  const added = resolveGroupAdd(groupAdd, db);
  return { uid, gid, additionalGids: [gid, ...supplementary, ...added], home: home === "" ? "/" : home };
}

/** HostConfig.GroupAdd: names must exist in /etc/group; numbers need not. No gid twice. */
export function resolveGroupAdd(groupAdd: readonly string[], db: UserDb): number[] {
  const out: number[] = [];
  for (const ag of groupAdd) {
    const g = db.groups().find((e) => e.name === ag || String(e.gid) === ag);
    let gid: number;
    if (g !== undefined) gid = g.gid;
    else {
      const n = numericId(ag);
      if (n === undefined)
        throw new InvalidArgumentError(`Unable to find group ${ag}: no matching entries in group file`);
      gid = n;
    }
    if (!out.includes(gid)) out.push(gid);
  }
  return out;
}

/** A UserDb of fixed entries (tests; and the empty database of an image without /etc). */
export function staticUserDb(passwd: readonly PasswdEntry[] = [], groups: readonly GroupEntry[] = []): UserDb {
  return { passwd: () => passwd, groups: () => groups };
}
