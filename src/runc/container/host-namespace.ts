// Whether a namespace file named in config.json is the runtime's own: a container that joins it
// shares that namespace with the host ("host" meaning this process's, as runc reads it).
import { statSync } from "node:fs";
import type { NamespaceType } from "../config/types.ts";
import { PROC_NS_NAME } from "../plan/namespaces.ts";

export function isHostNamespace(type: NamespaceType, path: string): boolean {
  try {
    const own = statSync(`/proc/self/ns/${PROC_NS_NAME[type]}`);
    const given = statSync(path);
    // Namespace files are nsfs inodes: the same namespace has the same device and inode, also
    // through a bind mount (/run/netns/x) or another process's /proc/<pid>/ns link.
    return own.dev === given.dev && own.ino === given.ino;
  } catch {
    // A path that does not exist is refused by setns(2) when the plan runs, naming it.
    return false;
  }
}
