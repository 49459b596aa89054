// Container records on disk, one directory per container as dockerd keeps them:
// <data-root>/containers/<id>/config.v2.json (0600, replaced whole by an atomic write), beside the
// container's own files (json log, hostname, hosts, resolv.conf). Loaded at start-up; a directory
// whose record is missing, too large or not a record is skipped and reported, never fatal.
import { closeSync, constants, fstatSync, mkdirSync, openSync, readdirSync, readSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../../common/atomic-write.ts";
import { errorMessage, InvalidArgumentError } from "../../common/errors.ts";
import { makeDir } from "../../common/secure-fs.ts";
import { parseHealthState } from "./health.ts";
import { normalizeName } from "./names.ts";
import { CONTAINER_ID, type ContainerRecord, type ContainerStatus } from "./record.ts";
import { decodeContainerConfig, decodeHostConfig } from "./spec/decode.ts";

export const RECORD_FILE = "config.v2.json";
/** A record holds a Config and HostConfig the decoder bounded; far below this. */
export const MAX_RECORD_BYTES = 8 << 20;

const STATUSES: readonly ContainerStatus[] = [
  "created",
  "running",
  "paused",
  "restarting",
  "removing",
  "exited",
  "dead",
];

export class ContainerStore {
  /** <data-root>/containers. */
  readonly root: string;

  constructor(dataRoot: string) {
    this.root = join(dataRoot, "containers");
    makeDir(this.root, 0o710);
  }

  /** The container's directory; `id` must be a full container id (never a path). */
  dir(id: string): string {
    if (!CONTAINER_ID.test(id)) throw new InvalidArgumentError(`not a container id: ${JSON.stringify(id)}`);
    return join(this.root, id);
  }

  /** Makes the container's directory (0710: the runtime's mounts of its files need traversal). */
  makeDir(id: string): string {
    const dir = this.dir(id);
    mkdirSync(dir, { mode: 0o710 });
    return dir;
  }

  save(record: ContainerRecord): void {
    writeFileAtomic(join(this.dir(record.ID), RECORD_FILE), `${JSON.stringify(record)}\n`, { mode: 0o600 });
  }

  remove(id: string): void {
    rmSync(this.dir(id), { recursive: true, force: true });
  }

  /** Every record on disk; what could not be read is passed to `skipped`. */
  loadAll(skipped: (id: string, why: string) => void): ContainerRecord[] {
    const out: ContainerRecord[] = [];
    for (const entry of readdirSync(this.root)) {
      if (!CONTAINER_ID.test(entry)) continue;
      try {
        out.push(parseRecord(readBounded(join(this.root, entry, RECORD_FILE), MAX_RECORD_BYTES), entry));
      } catch (err) {
        skipped(entry, errorMessage(err));
      }
    }
    return out;
  }
}

/** A regular file's text, at most `limit` bytes; no symlink followed, no FIFO waited on. */
export function readBounded(path: string, limit: number): string {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new InvalidArgumentError(`${path}: not a regular file`);
    if (st.size > limit) throw new InvalidArgumentError(`${path}: ${st.size} bytes, more than ${limit}`);
    const buf = Buffer.alloc(st.size);
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off).toString("utf8");
  } finally {
    closeSync(fd);
  }
}

const isString = (v: unknown): v is string => typeof v === "string";
const isInt = (v: unknown): v is number => Number.isSafeInteger(v);

/** A stored record checked field by field (Config and HostConfig through the create decoder). */
export function parseRecord(text: string, id: string): ContainerRecord {
  const doc = JSON.parse(text) as Record<string, unknown>;
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) throw new InvalidArgumentError("not a JSON object");
  if (doc.ID !== id) throw new InvalidArgumentError(`its ID ${JSON.stringify(doc.ID)} is not its directory's`);
  const s = doc.State as Record<string, unknown> | undefined;
  const strings = [
    "Created",
    "Path",
    "Image",
    "ImageName",
    "Runtime",
    "LogPath",
    "ResolvConfPath",
    "HostnamePath",
    "HostsPath",
  ];
  for (const k of strings) if (!isString(doc[k])) throw new InvalidArgumentError(`${k} is not a string`);
  if (!Array.isArray(doc.Args) || !doc.Args.every(isString))
    throw new InvalidArgumentError("Args is not a list of strings");
  if (!isInt(doc.RestartCount)) throw new InvalidArgumentError("RestartCount is not an integer");
  if (!s || typeof s !== "object") throw new InvalidArgumentError("State is not an object");
  if (!STATUSES.includes(s.Status as ContainerStatus)) throw new InvalidArgumentError("State.Status is unknown");
  for (const k of ["Running", "Paused", "Restarting", "OOMKilled", "Dead"])
    if (typeof s[k] !== "boolean") throw new InvalidArgumentError(`State.${k} is not a boolean`);
  for (const k of ["Pid", "ExitCode"]) if (!isInt(s[k])) throw new InvalidArgumentError(`State.${k} is not an integer`);
  for (const k of ["Error", "StartedAt", "FinishedAt"])
    if (!isString(s[k])) throw new InvalidArgumentError(`State.${k} is not a string`);
  // A malformed health state is dropped (the next probe makes a new one), not the record.
  const { Health: rawHealth, ...state } = s;
  const health = parseHealthState(rawHealth);
  return {
    ID: id,
    Name: normalizeName(String(doc.Name)),
    Created: doc.Created as string,
    Path: doc.Path as string,
    Args: doc.Args as string[],
    Config: decodeContainerConfig(doc.Config),
    HostConfig: decodeHostConfig(doc.HostConfig),
    Image: doc.Image as string,
    ImageName: doc.ImageName as string,
    State: { ...(state as unknown as ContainerRecord["State"]), ...(health ? { Health: health } : {}) },
    Runtime: doc.Runtime as string,
    RestartCount: doc.RestartCount as number,
    ...(doc.HasBeenManuallyStopped === true ? { HasBeenManuallyStopped: true } : {}),
    LogPath: doc.LogPath as string,
    ResolvConfPath: doc.ResolvConfPath as string,
    HostnamePath: doc.HostnamePath as string,
    HostsPath: doc.HostsPath as string,
  };
}
