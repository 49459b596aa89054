// `docker commit` (POST /commit): a container's writable layer becomes a new image on top of its
// image. The layer is containerd's Diff of the container's snapshot against a read-only view of
// its parent (the Diff service writes it into the content store, gzip, with its uncompressed
// digest as a label), so it works the same on berth-containerd and on Debian's containerd. The
// config is the parent's with the container's config, --change and the request's config laid
// over it, one more diff_id and one more history entry, as dockerd writes it.
import { randomBytes } from "node:crypto";
import type { RemoteContainerd } from "../../client/remote.ts";
import { FailedPreconditionError } from "../../common/errors.ts";
import { MediaType } from "../../oci/image/media-types.ts";
import type { BlobDescriptor } from "../../oci/transfer/ports.ts";

const strings = (v: unknown) =>
  Array.isArray(v) && v.every((x) => typeof x === "string") && v.length > 0 ? v : undefined;
const text = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);
const object = (v: unknown) =>
  v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length > 0
    ? (v as Record<string, unknown>)
    : undefined;
const stringMap = (v: unknown) => {
  const o = object(v);
  return o && Object.values(o).every((x) => typeof x === "string") ? o : undefined;
};
const keySet = (v: unknown) => {
  const o = object(v);
  return o ? Object.fromEntries(Object.keys(o).map((k) => [k, {}])) : undefined;
};

/**
 * The fields of a container's (or a request's) config an image config keeps (the OCI image
 * config's `config`), each only as docker's type holds it: anything else, null or empty is left out.
 */
const IMAGE_CONFIG_FIELDS: Record<string, (v: unknown) => unknown> = {
  User: text,
  ExposedPorts: keySet,
  Env: strings,
  Entrypoint: strings,
  Cmd: strings,
  Volumes: keySet,
  WorkingDir: text,
  Labels: stringMap,
  StopSignal: text,
  Healthcheck: object,
  OnBuild: strings,
  ArgsEscaped: (v) => (v === true ? true : undefined),
  Shell: strings,
};

export function imageConfigOf(config: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, pick] of Object.entries(IMAGE_CONFIG_FIELDS)) {
    const v = pick(config[k]);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

const list = (v: unknown) => (Array.isArray(v) ? (v as unknown[]) : []);
const map = (v: unknown) =>
  v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

/**
 * The committed image's config as dockerd merges it: the request's config with the --change
 * instructions applied, and what that leaves unset taken from the container's config — Cmd (and
 * Entrypoint when neither is given), User, WorkingDir, StopSignal, Healthcheck, OnBuild; Env by
 * variable name, Labels, ExposedPorts and Volumes by key, the request's winning.
 */
export function mergeCommitConfig(
  requested: Readonly<Record<string, unknown>>,
  container: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const user = imageConfigOf(requested);
  const c = imageConfigOf(container);
  const out: Record<string, unknown> = { ...user };
  if (list(user.Cmd).length === 0 && c.Cmd !== undefined) out.Cmd = c.Cmd;
  if (list(user.Entrypoint).length === 0 && list(user.Cmd).length === 0 && c.Entrypoint !== undefined)
    out.Entrypoint = c.Entrypoint;
  for (const k of ["User", "WorkingDir", "StopSignal", "Healthcheck", "OnBuild", "Shell"] as const) {
    if (out[k] === undefined && c[k] !== undefined) out[k] = c[k];
  }
  const env = list(user.Env).filter((e): e is string => typeof e === "string");
  const named = new Set(env.map((e) => e.split("=", 1)[0]));
  for (const e of list(c.Env)) if (typeof e === "string" && !named.has(e.split("=", 1)[0])) env.push(e);
  if (env.length > 0) out.Env = env;
  for (const k of ["Labels", "ExposedPorts", "Volumes"] as const) {
    const merged = { ...map(c[k]), ...map(user[k]) };
    if (Object.keys(merged).length > 0) out[k] = merged;
  }
  return out;
}

export interface CommitFacts {
  diffId: string;
  created: string;
  author: string;
  comment: string;
  containerId: string;
  /** The new image's `config` (container config, changes and the request's config, merged). */
  config: Record<string, unknown>;
  /** The history entry's created_by: the container's command, as dockerd writes it. */
  createdBy: string;
}

/** The new image config: the parent's, one layer and one history entry more. */
export function commitConfig(parent: Readonly<Record<string, unknown>>, f: CommitFacts): Record<string, unknown> {
  const rootfs = (parent.rootfs ?? {}) as { diff_ids?: unknown };
  const diffIds = Array.isArray(rootfs.diff_ids) ? (rootfs.diff_ids as string[]) : [];
  const history = Array.isArray(parent.history) ? (parent.history as unknown[]) : [];
  const entry: Record<string, unknown> = { created: f.created, created_by: f.createdBy };
  if (f.author) entry.author = f.author;
  if (f.comment) entry.comment = f.comment;
  const out: Record<string, unknown> = {
    ...parent,
    created: f.created,
    container: f.containerId,
    config: f.config,
    rootfs: { type: "layers", diff_ids: [...diffIds, f.diffId] },
    history: [...history, entry],
  };
  if (f.author) out.author = f.author;
  else delete out.author;
  if (f.comment) out.comment = f.comment;
  else delete out.comment;
  return out;
}

/**
 * The container's writable layer as a gzip layer blob in the content store (under `lease`):
 * containerd's Diff of its snapshot (key = the container's id) against a view of its parent.
 */
export async function diffContainerLayer(
  remote: RemoteContainerd,
  snapshotter: string,
  containerId: string,
  lease: string,
): Promise<{ layer: BlobDescriptor; diffId: string }> {
  const call = { lease };
  const stat = await remote.snapshots.stat({ snapshotter, key: containerId }, call);
  const parent = stat.info?.parent ?? "";
  const viewKey = `commit-view-${containerId}-${randomBytes(4).toString("hex")}`;
  const left = parent
    ? (await remote.snapshots.view({ snapshotter, key: viewKey, parent, labels: {} }, call)).mounts
    : [];
  try {
    const right = (await remote.snapshots.mounts({ snapshotter, key: containerId }, call)).mounts;
    const r = await remote.diff.diff(
      {
        left,
        right,
        mediaType: MediaType.ociLayerGzip,
        ref: `commit-${containerId}-${randomBytes(4).toString("hex")}`,
        labels: {},
      },
      call,
    );
    const d = r.diff;
    if (!d) throw new FailedPreconditionError(`commit ${containerId}: the diff service returned no layer`);
    const info = await remote.content.info({ digest: d.digest }, call);
    const diffId = info.info?.labels?.["containerd.io/uncompressed"];
    if (!diffId)
      throw new FailedPreconditionError(`commit ${containerId}: layer ${d.digest} has no uncompressed digest`);
    return { layer: { mediaType: d.mediaType, digest: d.digest, size: Number(d.size) }, diffId };
  } finally {
    if (parent) await remote.snapshots.remove({ snapshotter, key: viewKey }, call).catch(() => {});
  }
}
