// Resolves a layer entry's parent directory inside the root being written, the way
// openat2(RESOLVE_IN_ROOT) would (common/in-root.ts's walk): symlinks are followed, but an
// absolute target or a ".." at the root stays at the root, so no entry of a layer can reach
// outside it through a symlink that an earlier entry planted. Missing directories are made.
// Directories proven real (not symlinks) are cached; the caller must call forget() for anything
// it removes.
import { lstat, mkdir, readlink } from "node:fs/promises";
import { InvalidArgumentError } from "../../common/errors.ts";
import { InRootWalk, pathIn } from "../../common/in-root.ts";

/** Creates `rel` (components under the root) as a directory; its parent exists. */
export type MissingDirectory = (abs: string, rel: string[]) => Promise<void>;

export class RootPath {
  readonly root: string;
  readonly #dirs = new Set<string>();
  readonly #onMissing: MissingDirectory;

  constructor(root: string, onMissing: MissingDirectory = async (abs) => void (await mkdir(abs, 0o755))) {
    this.root = root;
    this.#onMissing = onMissing;
  }

  abs(rel: readonly string[]): string {
    return pathIn(this.root, rel);
  }

  /**
   * The real directory (components, no symlinks) that `components` name inside the root.
   * `create`: make missing directories; otherwise a missing one is an error.
   * `what` names the tar entry in errors.
   */
  async resolveDir(components: readonly string[], what: string, create: boolean): Promise<string[]> {
    const walk = new InRootWalk(components);
    while (walk.next()) {
      const resolved = walk.resolved;
      const key = resolved.join("/");
      if (this.#dirs.has(key)) continue;
      const abs = this.abs(resolved);
      let st: Awaited<ReturnType<typeof lstat>> | undefined;
      try {
        st = await lstat(abs);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      }
      if (st === undefined) {
        if (!create) throw new InvalidArgumentError(`tar entry ${JSON.stringify(what)}: ${key} does not exist`);
        await this.#onMissing(abs, [...resolved]);
        this.#dirs.add(key);
      } else if (st.isSymbolicLink()) {
        if (!walk.follow(await readlink(abs)))
          throw new InvalidArgumentError(`tar entry ${JSON.stringify(what)}: too many symlinks`);
      } else if (st.isDirectory()) {
        this.#dirs.add(key);
      } else {
        throw new InvalidArgumentError(`tar entry ${JSON.stringify(what)}: ${key} is not a directory`);
      }
    }
    return walk.resolved;
  }

  /** Records that `rel` is now a real directory (the caller just made it). */
  learn(rel: readonly string[]): void {
    this.#dirs.add(rel.join("/"));
  }

  /** Forgets `rel` and everything under it (the caller removed or replaced it). */
  forget(rel: readonly string[]): void {
    const key = rel.join("/");
    if (!this.#dirs.delete(key)) return; // not a known directory: nothing below it is cached
    const prefix = `${key}/`;
    for (const d of this.#dirs) if (d.startsWith(prefix)) this.#dirs.delete(d);
  }
}
