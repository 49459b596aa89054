// The runtime's on-disk state: one directory per container under --root, holding state.json
// (written atomically: common/atomic-write.ts) and the exec fifo between create and start.
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../../common/atomic-write.ts";
import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from "../../common/errors.ts";
import type { Spec } from "../config/types.ts";

/** What berth-runc keeps of one container in its state.json. */
export interface RuncContainerState {
  id: string;
  bundle: string;
  rootfs: string;
  /** Host pid of the container's init. */
  pid: number;
  /** Field 22 of /proc/<pid>/stat at creation: tells a live init from a recycled pid. */
  initStartTime: string;
  created: string;
  owner: string;
  cgroupPaths: Record<string, string>;
  spec: Spec;
  /** Set until create has finished: a record left with it set means a create died mid-way. */
  creating?: boolean;
}

const ID_PATTERN = /^[\w+\-.]+$/;

export function validateId(id: string): void {
  if (!id) throw new InvalidArgumentError("container id cannot be empty");
  if (!ID_PATTERN.test(id) || id === "." || id === "..")
    throw new InvalidArgumentError(`invalid container id format: ${id}`);
}

export class StateStore {
  readonly root: string;
  constructor(root: string) {
    this.root = root;
  }

  dir(id: string): string {
    return join(this.root, id);
  }

  execFifo(id: string): string {
    return join(this.dir(id), "exec.fifo");
  }

  /** Reserve the id: the directory's creation is the lock against a concurrent create. */
  reserve(id: string): string {
    validateId(id);
    mkdirSync(this.root, { recursive: true, mode: 0o711 });
    const dir = this.dir(id);
    try {
      mkdirSync(dir, { mode: 0o711 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST")
        throw new AlreadyExistsError(`container with id exists: ${id}`);
      throw err;
    }
    return dir;
  }

  /** Atomic (temp + rename); `durable` (the default) also flushes, for state that must survive a power loss. */
  save(rec: RuncContainerState, opts: { durable?: boolean } = {}): void {
    writeFileAtomic(join(this.dir(rec.id), "state.json"), JSON.stringify(rec), { mode: 0o600, durable: opts.durable });
  }

  load(id: string): RuncContainerState {
    validateId(id);
    let text: string;
    try {
      text = readFileSync(join(this.dir(id), "state.json"), "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new NotFoundError(`container does not exist: ${id}`);
      throw err;
    }
    return JSON.parse(text) as RuncContainerState;
  }

  list(): string[] {
    let names: string[];
    try {
      names = readdirSync(this.root);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
    return names.filter((n) => {
      try {
        return statSync(join(this.root, n, "state.json")).isFile();
      } catch {
        return false;
      }
    });
  }

  /** A directory reserved by a create that never finished (it crashed before state.json). */
  hasOrphan(id: string): boolean {
    validateId(id);
    try {
      return (
        statSync(this.dir(id)).isDirectory() && !statSync(join(this.dir(id), "state.json"), { throwIfNoEntry: false })
      );
    } catch {
      return false;
    }
  }

  /** The user name owning the container's state, as `list` shows it. */
  ownerOf(id: string): string {
    const uid = statSync(this.dir(id)).uid;
    try {
      for (const line of readFileSync("/etc/passwd", "utf8").split("\n")) {
        const f = line.split(":");
        if (f[2] === String(uid) && f[0]) return f[0];
      }
    } catch {
      // No passwd: fall back to the number.
    }
    return `#${uid}`;
  }

  remove(id: string): void {
    rmSync(this.dir(id), { recursive: true, force: true });
  }
}
