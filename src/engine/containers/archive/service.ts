// docker cp, docker export and docker diff over a container's files: the path asked for resolved
// inside the container (pinned.ts), the answers and refusals as dockerd 20.10 gives them
// (statuses and words checked against it: test/interop/berthd-dockerd-archive.test.ts).
import { closeSync, readlinkSync } from "node:fs";
import { rm } from "node:fs/promises";
import { posix } from "node:path";
import type { Readable } from "node:stream";
import { type Fsops, sharedFsops } from "../../../common/archive/fsops.ts";
import { containerPath, type PathStat, pathStat } from "../../../common/archive/path-stat.ts";
import { BerthError, errorMessage, InvalidArgumentError, NotFoundError } from "../../../common/errors.ts";
import { ApiError, PayloadTooLargeError } from "../../api/api-errors.ts";
import type { ContainerFilesystem, ContainerManager } from "../manager.ts";
import { type Change, containerChanges } from "./changes.ts";
import { type ContainerRoot, withContainerRoot } from "./container-root.ts";
import { checkTar, extractTar, spool } from "./extract.ts";
import { fdPath, type Pinned, resolvePinned } from "./pinned.ts";
import { tarTree } from "./tar-out.ts";

/**
 * The largest archive docker cp may send into a container (spooled on the data root's disk
 * before it is checked). dockerd sets none; 16 GiB is far past what docker cp is used for.
 */
export const MAX_PUT_BYTES = 16 * 2 ** 30;

export interface ArchiveServiceOptions {
  /** Where PUT bodies are spooled (<data-root>/tmp). */
  spoolDir: string;
  maxPutBytes?: number;
  fsops?: Fsops;
}

/** dockerd's words when the path parameter is missing (its message has no space before "cannot"). */
export function requirePath(path: string | null): string {
  if (path === null || path === "") throw new ApiError(400, "bad parameter: pathcannot be empty");
  return path;
}

interface Located {
  pinned: Pinned;
  stat: PathStat;
}

function notFound(raw: string, ref: string): NotFoundError {
  return new NotFoundError(`Could not find the file ${raw} in container ${ref}`);
}

/** The entry `raw` names in the container (the last symlink not followed unless a trailing "/" or "/." asks). */
function locate(root: ContainerRoot, raw: string, ref: string): Located {
  const p = containerPath(raw);
  const found = resolvePinned(root.rootFd, p.abs, p.mustBeDir, true);
  if (found === "missing") throw notFound(raw, ref);
  if (found === "not-a-directory" || (p.mustBeDir && !found.stat.isDirectory())) {
    if (typeof found !== "string") release(found);
    throw new BerthError("internal", `lstat ${raw}: not a directory`);
  }
  let linkTarget = "";
  if (found.stat.isSymbolicLink()) linkTarget = symlinkTarget(root, found);
  return { pinned: found, stat: pathStat(p.base, found.stat, linkTarget) };
}

/** Closes what resolvePinned left open. */
function release(p: Pinned): void {
  closeSync(p.fd);
  if (p.parent !== undefined) closeSync(p.parent);
}

/** Where a symlink leads inside the container, fully resolved (dockerd's linkTarget). */
function symlinkTarget(root: ContainerRoot, link: Pinned): string {
  const full = resolvePinned(root.rootFd, link.rel, true);
  if (typeof full !== "string") {
    closeSync(full.fd);
    return `/${full.rel.join("/")}`;
  }
  // Dangling: where it points, taken lexically from the link's directory.
  const parent = resolvePinned(root.rootFd, link.rel.slice(0, -1), true);
  if (typeof parent === "string") return "";
  try {
    const target = readlinkSync(fdPath(parent.fd, link.rel.at(-1)!));
    return posix.resolve(`/${link.rel.slice(0, -1).join("/")}`, target);
  } catch {
    return "";
  } finally {
    closeSync(parent.fd);
  }
}

export class ArchiveService {
  readonly #m: ContainerManager;
  readonly #opts: ArchiveServiceOptions;

  constructor(m: ContainerManager, opts: ArchiveServiceOptions) {
    this.#m = m;
    this.#opts = opts;
  }

  get #fsops(): Fsops {
    return this.#opts.fsops ?? sharedFsops();
  }

  /** HEAD /containers/{id}/archive. */
  stat(ref: string, raw: string): Promise<PathStat> {
    return this.#m.withFilesystem(ref, (fs) =>
      withContainerRoot(fs, true, async (root) => {
        const { pinned, stat } = locate(root, raw, ref);
        release(pinned);
        return stat;
      }),
    );
  }

  /**
   * GET /containers/{id}/archive: `start` is called with the stat once the path is found (the
   * answer's headers), then the tar's chunks go to `write` (awaited: the client's pace).
   */
  async archive(
    ref: string,
    raw: string,
    start: (stat: PathStat) => void,
    write: (chunk: Buffer) => Promise<void>,
  ): Promise<void> {
    await this.#m.withFilesystem(ref, (fs) =>
      withContainerRoot(fs, true, async (root) => {
        const { pinned, stat } = locate(root, raw, ref);
        try {
          start(stat);
          const base = stat.name === "/" ? "" : stat.name;
          for await (const chunk of tarTree(pinned, { base, fsops: this.#fsops })) await write(chunk);
        } finally {
          release(pinned);
        }
      }),
    );
    this.#m.report(ref, "archive-path");
  }

  /** GET /containers/{id}/export: the rootfs without the container's mounts' contents. */
  async export(ref: string, start: () => void, write: (chunk: Buffer) => Promise<void>): Promise<void> {
    await this.#m.withFilesystem(ref, (fs) =>
      withContainerRoot(fs, false, async (root) => {
        start();
        const prune = (rel: readonly string[]) => root.mountPoints.has(`/${rel.join("/")}`);
        const top = resolvePinned(root.rootFd, [], true);
        if (typeof top === "string") throw new BerthError("internal", "the container's root is not a directory");
        try {
          for await (const chunk of tarTree(top, { base: "", skipTop: true, prune, fsops: this.#fsops }))
            await write(chunk);
        } finally {
          release(top);
        }
      }),
    );
    this.#m.report(ref, "export");
  }

  /** PUT /containers/{id}/archive. */
  async extract(
    ref: string,
    raw: string,
    body: Readable,
    flags: { noOverwriteDirNonDir: boolean; copyUIDGID: boolean },
  ): Promise<void> {
    this.#m.get(ref); // 404 before the body is read
    const limit = this.#opts.maxPutBytes ?? MAX_PUT_BYTES;
    const file = await spool(body, this.#opts.spoolDir, limit, () => new PayloadTooLargeError(limit));
    try {
      await this.#m.withFilesystem(ref, (fs) =>
        withContainerRoot(fs, true, async (root) => {
          const p = containerPath(raw);
          const dest = resolvePinned(root.rootFd, p.abs, true);
          if (dest === "missing") throw notFound(raw, ref);
          if (typeof dest === "string") throw new BerthError("internal", `lstat ${raw}: not a directory`);
          closeSync(dest.fd);
          if (!dest.stat.isDirectory()) throw new BerthError("internal", "extraction point is not a directory");
          checkWritable(fs, root, `/${dest.rel.join("/")}`);
          try {
            await checkTar(file);
            await extractTar(file, root.rootFd, dest.rel, {
              noOverwriteDirNonDir: flags.noOverwriteDirNonDir,
              fsops: this.#fsops,
              ...(flags.copyUIDGID ? ownerOf(fs) : {}),
            });
          } catch (err) {
            throw new BerthError("internal", `Error processing tar file: ${errorMessage(err)}`, { cause: err });
          }
        }),
      );
      this.#m.report(ref, "extract-to-dir");
    } finally {
      await rm(file, { force: true });
    }
  }

  /** GET /containers/{id}/changes: null when nothing changed, as dockerd answers. */
  changes(ref: string): Promise<Change[] | null> {
    return this.#m.withFilesystem(ref, async (fs) => {
      const changes = await containerChanges(fs.rootfs, mountDestinations(fs.spec), this.#fsops);
      return changes.length === 0 ? null : changes;
    });
  }
}

/** dockerd's read-only refusals: a read-only bind ("volume") holding `dest`, else a read-only rootfs. */
function checkWritable(fs: ContainerFilesystem, root: ContainerRoot, dest: string): void {
  const holding = root.binds
    .filter((b) => dest === b.destination || dest.startsWith(b.destination === "/" ? "/" : `${b.destination}/`))
    .sort((a, b) => b.destination.length - a.destination.length)[0];
  if (holding?.readonly) throw new BerthError("internal", "mounted volume is marked read-only");
  if (holding === undefined && fs.record.HostConfig.ReadonlyRootfs) {
    throw new BerthError("internal", "container rootfs is marked read-only");
  }
}

/**
 * copyUIDGID: the container's user owns what is copied in. Its uid and gid as berthd resolved
 * them inside the container at create (the spec's process.user); dockerd looks the name up in
 * the host's /etc/passwd instead. No user set: the tar's own owners, as dockerd.
 */
function ownerOf(fs: ContainerFilesystem): { owner?: { uid: number; gid: number } } {
  if (fs.record.Config.User === "") return {};
  const user = (fs.spec as { process?: { user?: { uid?: unknown; gid?: unknown } } } | undefined)?.process?.user;
  if (typeof user?.uid !== "number" || typeof user.gid !== "number") {
    throw new InvalidArgumentError(`the container's user ${JSON.stringify(fs.record.Config.User)} is not resolved`);
  }
  return { owner: { uid: user.uid, gid: user.gid } };
}

/** The destinations of the spec's mounts. */
function mountDestinations(spec: unknown): string[] {
  const mounts = (spec as { mounts?: unknown } | undefined)?.mounts;
  if (!Array.isArray(mounts)) return [];
  return mounts
    .map((m) => (m as { destination?: unknown }).destination)
    .filter((d): d is string => typeof d === "string");
}
