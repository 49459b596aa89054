// Container records through containerd's Containers service: what `ctr containers create` and
// dockerd's libcontainerd store before a task runs: the image name, labels, the runtime and its
// options, the OCI runtime spec, the snapshot that will be the rootfs, and extensions. A record is
// metadata only; running it is tasks.ts.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type * as grpc from "@grpc/grpc-js";
import { FailedPreconditionError, InvalidArgumentError } from "../common/errors.ts";
import { Containers } from "../proto/gen/containerd/services/containers/v1/containers_pb.js";
import { createClient } from "../rpc/grpc.ts";
import type { TraceContext } from "../rpc/trace.ts";
import { namedError, naming } from "./call-errors.ts";
import { type AnyValue, MAX_SPEC_BYTES, specAny, TypeUrl } from "./type-urls.ts";

/** Where a client connects, as whom, and (optionally) the connection it shares with other clients. */
export interface ConnectOptions {
  namespace: string;
  trace?: TraceContext | string | undefined;
  /** A channel shared with other clients (openChannel); closed when the last of them closes. */
  channel?: grpc.Channel;
}

/** The runtime a container's tasks run with. */
export interface ContainerRuntime {
  /** "io.containerd.runc.v2", "io.containerd.berth.v1", ... */
  name: string;
  /** Its options (runcOptionsAny for runc.v2 and berth.v1); none: the shim's defaults. */
  options?: AnyValue | undefined;
}

export interface ContainerCreate {
  id: string;
  /** The image the container was made from (a name; containerd does not resolve it). */
  image?: string;
  labels?: Record<string, string>;
  runtime: ContainerRuntime;
  /** The OCI runtime spec (config.json) as a JSON value; sent as JSON under TypeUrl.spec. */
  spec: unknown;
  /** The snapshotter and key of the container's rootfs snapshot (rootfs.ts prepares it). */
  snapshotter?: string;
  snapshotKey?: string;
  extensions?: Record<string, AnyValue>;
}

/** A container record as the daemon returns it; the spec decoded from its JSON. */
export interface ContainerRecord {
  id: string;
  image: string;
  labels: Record<string, string>;
  runtime: ContainerRuntime;
  /** The spec's JSON value; undefined when the record has none or it is not a runtime spec. */
  spec: unknown;
  snapshotter: string;
  snapshotKey: string;
  createdAt: Date | undefined;
  updatedAt: Date | undefined;
  extensions: Record<string, AnyValue>;
}

/** What an update changes: only the fields given (containerd's update mask). */
export interface ContainerUpdate {
  /** Replaces the labels whole. */
  labels?: Record<string, string>;
  /** Sets (or with "" removes) these labels, keeping the others. */
  setLabels?: Record<string, string>;
  spec?: unknown;
  image?: string;
  snapshotKey?: string;
  extensions?: Record<string, AnyValue>;
}

/**
 * Most container records a list reads: past it the list fails rather than grow without bound (the
 * daemon's 16 MiB message bound is what holds the memory; this bounds the work per record).
 */
export const MAX_LIST_CONTAINERS = 100_000;

export class ContainersClient {
  readonly #client;

  constructor(address: string, opts: ConnectOptions) {
    this.#client = createClient(Containers, address, opts);
  }

  close(): void {
    this.#client.close();
  }

  async create(c: ContainerCreate): Promise<ContainerRecord> {
    const what = `container ${c.id}`;
    const container = {
      id: c.id,
      image: c.image ?? "",
      labels: c.labels ?? {},
      runtime: { name: c.runtime.name, options: c.runtime.options },
      spec: specAny(c.spec, `${what}: spec`),
      snapshotter: c.snapshotter ?? "",
      snapshotKey: c.snapshotKey ?? "",
      extensions: c.extensions ?? {},
    };
    const r = await naming(what, this.#client.create({ container }));
    return recordOf(r.container, what);
  }

  async get(id: string): Promise<ContainerRecord> {
    const what = `container ${id}`;
    const r = await naming(what, this.#client.get({ id }));
    return recordOf(r.container, what);
  }

  /**
   * The namespace's containers matching any of `filters` (containerd's filter syntax, e.g.
   * `labels."com.example"==x`, `image==busybox`, `id~=^web`); all of them without filters.
   */
  async list(filters: string[] = [], limit = MAX_LIST_CONTAINERS): Promise<ContainerRecord[]> {
    const out: ContainerRecord[] = [];
    try {
      for await (const m of this.#client.listStream({ filters })) {
        if (out.length >= limit)
          throw new FailedPreconditionError(`containers: the daemon lists more than ${limit} containers`);
        out.push(recordOf(m.container, "containers"));
      }
    } catch (err) {
      throw namedError("containers", err);
    }
    return out;
  }

  async update(id: string, u: ContainerUpdate): Promise<ContainerRecord> {
    const what = `container ${id}`;
    const paths: string[] = [];
    const container: Record<string, unknown> = { id };
    if (u.labels !== undefined && u.setLabels !== undefined)
      throw new InvalidArgumentError(`${what}: update either labels or setLabels, not both`);
    if (u.labels !== undefined) {
      container.labels = u.labels;
      paths.push("labels");
    }
    if (u.setLabels !== undefined) {
      container.labels = u.setLabels;
      for (const k of Object.keys(u.setLabels)) paths.push(`labels.${k}`);
    }
    if (u.spec !== undefined) {
      container.spec = specAny(u.spec, `${what}: spec`);
      paths.push("spec");
    }
    if (u.image !== undefined) {
      container.image = u.image;
      paths.push("image");
    }
    if (u.snapshotKey !== undefined) {
      container.snapshotKey = u.snapshotKey;
      paths.push("snapshotkey");
    }
    if (u.extensions !== undefined) {
      container.extensions = u.extensions;
      for (const k of Object.keys(u.extensions)) paths.push(`extensions.${k}`);
    }
    if (paths.length === 0) return this.get(id);
    const r = await naming(what, this.#client.update({ container, updateMask: { paths } }));
    return recordOf(r.container, what);
  }

  async delete(id: string): Promise<void> {
    await naming(`container ${id}`, this.#client.delete({ id }));
  }
}

interface ContainerMessage {
  id: string;
  image: string;
  labels: Record<string, string>;
  runtime?: { name: string; options?: AnyValue | undefined } | undefined;
  spec?: AnyValue | undefined;
  snapshotter: string;
  snapshotKey: string;
  createdAt?: Parameters<typeof timestampDate>[0] | undefined;
  updatedAt?: Parameters<typeof timestampDate>[0] | undefined;
  extensions: Record<string, AnyValue>;
}

function recordOf(m: ContainerMessage | undefined, what: string): ContainerRecord {
  if (!m) throw new FailedPreconditionError(`${what}: the daemon answered without the container`);
  return {
    id: m.id,
    image: m.image,
    labels: m.labels,
    runtime: { name: m.runtime?.name ?? "", options: anyOf(m.runtime?.options) },
    spec: specOf(m.spec, `${what}: spec`),
    snapshotter: m.snapshotter,
    snapshotKey: m.snapshotKey,
    createdAt: m.createdAt ? timestampDate(m.createdAt) : undefined,
    updatedAt: m.updatedAt ? timestampDate(m.updatedAt) : undefined,
    extensions: Object.fromEntries(Object.entries(m.extensions).map(([k, v]) => [k, anyOf(v)!])),
  };
}

const anyOf = (a: AnyValue | undefined): AnyValue | undefined =>
  a ? { typeUrl: a.typeUrl, value: a.value } : undefined;

/** A stored spec's JSON; a spec of another type, or over the size bound, is not decoded. */
function specOf(a: AnyValue | undefined, what: string): unknown {
  if (!a || a.typeUrl !== TypeUrl.spec) return undefined;
  if (a.value.length > MAX_SPEC_BYTES)
    throw new FailedPreconditionError(`${what}: ${a.value.length} bytes, more than ${MAX_SPEC_BYTES}`);
  try {
    return JSON.parse(Buffer.from(a.value).toString("utf8"));
  } catch (err) {
    throw new FailedPreconditionError(`${what}: not JSON: ${(err as Error).message}`);
  }
}
