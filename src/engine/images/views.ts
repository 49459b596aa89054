// The image shapes dockerd answers with: a list entry (GET /images/json), inspect
// (GET /images/{name}/json) and history (GET /images/{name}/history), per API version where
// fields came or went (VirtualSize until 1.44, Container/ContainerConfig until 1.45, Descriptor
// from 1.48).
import { versionAtLeast } from "../api/api-version.ts";
import { type Image, imageSize, unixSeconds } from "./image.ts";
import { familiarName } from "./reference.ts";

/** Which of an image's names a listing shows (all, unless a reference filter says otherwise). */
export type NameFilter = (name: string) => boolean;
const everyName: NameFilter = () => true;

/** Tags (name:tag), familiar. */
export function repoTags(image: Image, keep: NameFilter = everyName): string[] {
  return image.names.filter((n) => !n.includes("@") && keep(n)).map(familiarName);
}

/** repo@digest for every repository the image is named in: the digest its name points at. */
export function repoDigests(image: Image, keep: NameFilter = everyName): string[] {
  const out = new Set<string>();
  for (const rec of image.records) {
    if (!image.names.includes(rec.name) || !keep(rec.name)) continue;
    const at = rec.name.indexOf("@");
    if (at >= 0) {
      out.add(familiarName(rec.name));
      continue;
    }
    const repo = rec.name.slice(0, rec.name.lastIndexOf(":"));
    out.add(`${familiarName(repo)}@${rec.target.digest}`);
  }
  return [...out].sort();
}

function labelsOf(image: Image): Record<string, unknown> | null {
  const labels = stringMap(image.config.config.Labels);
  return labels && Object.keys(labels).length > 0 ? labels : null;
}

/**
 * One entry of GET /images/json. `containers` is -1 unless the caller counted them; `keep` is the
 * reference filter's say over which names show.
 */
export function listEntry(
  image: Image,
  version: string,
  containers = -1,
  keep: NameFilter = everyName,
): Record<string, unknown> {
  const size = imageSize(image);
  return {
    Containers: containers,
    Created: unixSeconds(image.facts.created),
    Id: image.id,
    Labels: labelsOf(image),
    ParentId: "",
    RepoDigests: repoDigests(image, keep),
    RepoTags: repoTags(image, keep),
    SharedSize: -1,
    Size: size,
    ...(versionAtLeast(version, "1.44") ? {} : { VirtualSize: size }),
  };
}

/**
 * Fields of docker's container.Config an image config never sets. dockerd 28 (API 1.50) still
 * answers them, empty (docker deprecated them in 28.3, to go in 29).
 */
const CONTAINER_ONLY = {
  Hostname: "",
  Domainname: "",
  AttachStdin: false,
  AttachStdout: false,
  AttachStderr: false,
  Tty: false,
  OpenStdin: false,
  StdinOnce: false,
  Image: "",
} as const;

const strings = (v: unknown) => (Array.isArray(v) && v.every((s) => typeof s === "string") ? v : undefined);
const object = (v: unknown) =>
  v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

// A config value is shown only as docker's type holds it, never passed through as it came: a
// hostile config's deeply nested value would otherwise reach the answer (and its encoder's stack).

/** map[string]struct{} (ExposedPorts, Volumes): the keys, each to {}. */
const keySet = (v: unknown) => {
  const o = object(v);
  return o ? Object.fromEntries(Object.keys(o).map((k) => [k, {}])) : undefined;
};
/** map[string]string (Labels): the string values. */
const stringMap = (v: unknown) => {
  const o = object(v);
  return o ? Object.fromEntries(Object.entries(o).filter(([, x]) => typeof x === "string")) : undefined;
};
/** HealthConfig: Test (strings) and its durations and retries (integers, nanoseconds). */
const healthcheck = (v: unknown) => {
  const o = object(v);
  if (!o) return undefined;
  const out: Record<string, unknown> = {};
  if (strings(o.Test)) out.Test = o.Test;
  for (const k of ["Interval", "Timeout", "StartPeriod", "StartInterval", "Retries"])
    if (Number.isSafeInteger(o[k])) out[k] = o[k];
  return out;
};

/**
 * The image config's `config` in docker's field names and order, each read with its type checked
 * (a wrong type reads as unset); the optional ones only when set, as Go's omitempty leaves them.
 */
export function dockerConfig(c: Record<string, unknown>): Record<string, unknown> {
  const str = (k: string) => (typeof c[k] === "string" ? (c[k] as string) : "");
  const when = (k: string, v: unknown) => (v === undefined || v === "" || v === false ? {} : { [k]: v });
  return {
    ...CONTAINER_ONLY,
    User: str("User"),
    ...when("ExposedPorts", keySet(c.ExposedPorts)),
    Env: strings(c.Env) ?? null,
    Cmd: strings(c.Cmd) ?? null,
    ...when("Healthcheck", healthcheck(c.Healthcheck)),
    ...when("ArgsEscaped", c.ArgsEscaped === true),
    Image: "",
    Volumes: keySet(c.Volumes) ?? null,
    WorkingDir: str("WorkingDir"),
    Entrypoint: strings(c.Entrypoint) ?? null,
    OnBuild: strings(c.OnBuild) ?? null,
    Labels: stringMap(c.Labels) ?? null,
    ...when("StopSignal", str("StopSignal")),
    ...when("Shell", strings(c.Shell)),
  };
}

/** Go's zero time, what dockerd shows for a time never set. */
const ZERO_TIME = "0001-01-01T00:00:00Z";

/** GET /images/{name}/json. */
export function inspectBody(image: Image, version: string): Record<string, unknown> {
  const size = imageSize(image);
  const created = Number.isFinite(Date.parse(image.facts.created)) ? image.facts.created : ZERO_TIME;
  const record = image.records[0];
  return {
    Id: image.id,
    RepoTags: repoTags(image),
    RepoDigests: repoDigests(image),
    Parent: "",
    Comment: image.facts.comment,
    Created: created,
    ...(versionAtLeast(version, "1.45") ? {} : { Container: "", ContainerConfig: dockerConfig({}), DockerVersion: "" }),
    Author: image.facts.author,
    Config: dockerConfig(image.config.config),
    Architecture: image.config.architecture,
    ...(image.config.variant ? { Variant: image.config.variant } : {}),
    Os: image.config.os,
    Size: size,
    ...(versionAtLeast(version, "1.44") ? {} : { VirtualSize: size }),
    // The snapshotter's name, as dockerd with the containerd image store says it.
    GraphDriver: { Data: null, Name: "overlayfs" },
    RootFS: { Type: "layers", Layers: image.config.rootfs.diff_ids },
    Metadata: { LastTagTime: image.lastTagTime?.toISOString() ?? ZERO_TIME },
    ...(versionAtLeast(version, "1.48") && record
      ? { Descriptor: { mediaType: record.target.mediaType, digest: record.target.digest, size: record.target.size } }
      : {}),
  };
}

/**
 * GET /images/{name}/history: the config's history, newest first; each entry that made a layer
 * carries that layer's size. An image without history gets one entry per layer.
 */
export function historyBody(image: Image): Record<string, unknown>[] {
  const sizes = image.layerSizes;
  const entries =
    image.facts.history.length > 0
      ? image.facts.history
      : sizes.map(() => ({ created: image.facts.created, createdBy: "", comment: "", author: "", emptyLayer: false }));
  let layer = 0;
  const out = entries.map((h) => ({
    Comment: h.comment,
    Created: unixSeconds(h.created),
    CreatedBy: h.createdBy,
    Id: "<missing>",
    Size: h.emptyLayer ? 0 : (sizes[layer++] ?? 0),
    Tags: null as string[] | null,
  }));
  out.reverse();
  if (out[0]) {
    out[0].Id = image.id;
    out[0].Tags = repoTags(image);
  }
  return out;
}
