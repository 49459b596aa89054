// The user database (/etc/passwd, /etc/group) of each image's top layer, kept after the first
// container of the image has read it, so the next container's create skips the read-only temp
// mount of its snapshot. Sound because a fresh container's snapshot is prepared on the image's
// top chain ID and shows exactly that chain's files; the chain ID names those files' content
// (a chain of layer digests), so one chain ID never has two databases.
import type { GroupEntry, PasswdEntry, UserDb } from "./spec/user.ts";

/** Images remembered; the least recently used goes first. */
const MAX_IMAGES = 32;
/** A database bigger than this (passwd and group entries together) is not kept. */
const MAX_ENTRIES = 1024;

/** What a lazy database gave for one file, or the error it threw (thrown again when asked). */
type Answer<T> = { value: T } | { error: unknown };

function answer<T>(read: () => T): Answer<T> {
  try {
    return { value: read() };
  } catch (error) {
    return { error };
  }
}

function replay<T>(a: Answer<T>): () => T {
  return () => {
    if ("error" in a) throw a.error;
    return a.value;
  };
}

export class ImageUsers {
  readonly #byChain = new Map<string, UserDb>();

  /** The database kept for `chainId`, or undefined. */
  get(chainId: string): UserDb | undefined {
    const db = this.#byChain.get(chainId);
    if (db) {
      this.#byChain.delete(chainId);
      this.#byChain.set(chainId, db);
    }
    return db;
  }

  /**
   * Reads both files of `db` now (it reads a mounted snapshot, gone afterwards) and keeps the
   * answers for `chainId` when small enough; returns a database that answers as `db` would have,
   * a read's error included.
   */
  remember(chainId: string, db: UserDb): UserDb {
    const passwd = answer<readonly PasswdEntry[]>(() => db.passwd());
    const groups = answer<readonly GroupEntry[]>(() => db.groups());
    const fixed: UserDb = { passwd: replay(passwd), groups: replay(groups) };
    // A read that failed may not fail next time: only whole answers are kept.
    if (!("value" in passwd && "value" in groups)) return fixed;
    if (chainId === "" || passwd.value.length + groups.value.length > MAX_ENTRIES) return fixed;
    this.#byChain.delete(chainId);
    this.#byChain.set(chainId, fixed);
    while (this.#byChain.size > MAX_IMAGES) this.#byChain.delete(this.#byChain.keys().next().value!);
    return fixed;
  }
}
